/** Labels Kai puts on every container it creates; they are how Kai knows its own. */
export const LABEL_MANAGED = 'kai.managed';
export const LABEL_INSTANCE = 'kai.instance';
export const LABEL_HOST_PATH = 'kai.host-path';
export const LABEL_CONTAINER_PATH = 'kai.container-path';

export function ownershipFilters(instance: string): string[] {
  return [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${instance}`];
}

export function isOwned(labels: Record<string, string> | null | undefined, instance: string): boolean {
  return labels?.[LABEL_MANAGED] === 'true' && labels[LABEL_INSTANCE] === instance;
}
/** Names of the variables the user set, so details can show them without the image's own. */
export const LABEL_ENV_KEYS = 'kai.env-keys';
