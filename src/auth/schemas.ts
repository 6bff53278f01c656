import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../http/schema-helpers.js';
import { ROLES } from './store.js';

export const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.@-]*$',
  'x-message': 'must be 1-64 characters: letters, digits, "_", ".", "@" or "-", starting with a letter or digit',
});

export const NewPassword = Type.String({ minLength: 8, maxLength: 256, description: 'At least 8 characters' });

export const RoleSchema = StringEnum(ROLES);

export const UserSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const LoginResult = Type.Object({
  token: Type.String({ description: 'Session token (JWT) for Authorization: Bearer; the same session is set as an HttpOnly cookie' }),
  expiresAt: Type.String({ format: 'date-time' }),
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token on state-changing requests that use the cookie' }),
  user: Type.Object({ username: Type.String(), role: RoleSchema }),
});

export const MeResult = Type.Object({
  user: Type.Object({ username: Type.String(), role: RoleSchema }),
  via: StringEnum(['session', 'api-token']),
  csrfToken: Nullable(Type.String()),
});

export const TokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S', 'x-message': 'must not be blank' }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: never' })),
  },
  { additionalProperties: false },
);

export const TokenRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const CreatedToken = Type.Object({
  ...TokenRecord.properties,
  token: Type.String({ description: 'Shown only in this response; Kai keeps a hash' }),
});

export const CreateUserBody = Type.Object(
  { username: Username, password: NewPassword, role: RoleSchema },
  { additionalProperties: false },
);

export const PasswordBody = Type.Object(
  {
    password: NewPassword,
    oldPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Required when changing your own password' })),
  },
  { additionalProperties: false },
);

export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
export const TokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
