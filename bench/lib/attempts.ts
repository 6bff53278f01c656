/** Clean-up steps that must all run: each failure is noted, none stops the others. */
export function attempts(): { errors: string[]; attempt(what: string, step: () => Promise<unknown>): Promise<void> } {
  const errors: string[] = [];
  return {
    errors,
    async attempt(what, step) {
      try {
        await step();
      } catch (error) {
        errors.push(`${what}: ${(error as Error).message}`);
      }
    },
  };
}
