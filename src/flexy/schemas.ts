import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../http/schema-helpers.js';
import { FLEXY_STATUSES, LISTABLE_STATUSES } from '../runtime/types.js';

export { FLEXY_STATUSES };

export const ContainerName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]+$',
  'x-message': 'must be 2-64 characters: letters, digits, "_", "." or "-", starting with a letter or digit (Docker\'s name rule)',
  examples: ['my-flexy'],
});

export const ImageRef = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.:/@-]*$',
  'x-message': 'must be a Docker image reference such as flexy-dev-sandbox:latest',
});

export const AbsolutePath = Type.String({
  minLength: 1,
  maxLength: 4096,
  pattern: '^/[^\\u0000]*$',
  'x-message': 'must be an absolute path',
});

export const EnvMap = Type.Unsafe<Record<string, string>>({
  type: 'object',
  maxProperties: 256,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 32768, pattern: '^[^\\u0000]*$' },
  description: 'Environment variables; names must be valid shell variable names',
  examples: [{ ENV_VAR: 'value' }],
});

export const FlexyStatusSchema = StringEnum(FLEXY_STATUSES);

export const FlexySummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: FlexyStatusSchema,
  image: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  hostPath: Nullable(Type.String()),
  containerPath: Nullable(Type.String()),
  ports: Type.Array(
    Type.Object({ hostPort: Type.Integer(), containerPort: Type.Integer(), hostIp: Type.String(), protocol: Type.String() }),
    { description: 'Published ports (127.0.0.1 only); empty until the container runs' },
  ),
});

export const NodeRef = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
  'x-message': 'must be a node id or hostname (see GET /api/nodes)',
  examples: ['worker-1'],
});

export const FlexyDetailsSchema = Type.Object({
  ...FlexySummarySchema.properties,
  statusReason: Nullable(Type.String({ description: 'Why the status is error or starting (for example a node that is down), else null' })),
  node: Nullable(
    Type.Object({ id: Type.String(), hostname: Type.String() }, { description: 'The Swarm node the sandbox runs on; null on a single Docker engine or when no task is placed' }),
  ),
  volumes: Type.Array(
    Type.Object({ hostPath: Type.String(), containerPath: Type.String(), mode: StringEnum(['rw', 'ro']) }),
  ),
  envKeys: Type.Array(Type.String(), { description: 'Names of the variables set at create; values are not shown' }),
  network: Nullable(Type.String()),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  exitCode: Nullable(Type.Integer()),
});

export const ListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(LISTABLE_STATUSES)),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);

export const ListResult = Type.Object({
  containers: Type.Array(FlexySummarySchema),
  total: Type.Integer({ description: 'Matching containers after the status filter, before paging' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const CreateBody = Type.Object(
  {
    name: ContainerName,
    image: Type.Optional(ImageRef),
    hostPath: Type.Optional(AbsolutePath),
    containerPath: Type.Optional(AbsolutePath),
    env: Type.Optional(EnvMap),
    start: Type.Optional(Type.Boolean({ description: 'Start the container right after creating it', default: false })),
    node: Type.Optional({ ...NodeRef, description: 'Swarm only: node id or hostname that holds the folder; the sandbox always runs there' }),
  },
  { additionalProperties: false },
);
export type CreateBody = Static<typeof CreateBody>;

export const IdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'Container id, unique id prefix, or name' }),
});

export const ActionResult = (status: string) =>
  Type.Object({ id: Type.String(), status: Type.Literal(status) });

export const DeleteResult = Type.Object({ id: Type.String() });
