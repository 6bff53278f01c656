import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES, ERROR_STATUS } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without credentials (health, readiness, the API document). The auth guard reads this. */
    public?: boolean;
    /** Errors as a small HTML page for browsers (Accept: text/html), the envelope otherwise. */
    htmlErrors?: boolean;
  }
}

const errorCodeTable = ERROR_CODES.map((code) => `- \`${code}\` (HTTP ${ERROR_STATUS[code]})`).join('\n');

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kai API',
        version,
        description:
          'Kai manages Flexy sandbox containers. Every /api response is an envelope: ' +
          '`{success: true, data, message, timestamp}` or `{success: false, error: {code, message, details}, timestamp}`.\n\n' +
          `Error codes:\n${errorCodeTable}\n- \`DOCKER_ERROR\` is 503 when the engine cannot be reached at all.`,
      },
      tags: [
        { name: 'flexy', description: 'Flexy sandbox containers' },
        { name: 'catalog', description: 'Remembered project folders' },
        { name: 'host', description: 'Browsing KAI_HOST_ROOT' },
        { name: 'system', description: 'Health and readiness' },
        { name: 'auth', description: 'Login, sessions and API tokens' },
        { name: 'users', description: 'User management' },
        { name: 'shell', description: "Built-in terminals and links to the sandbox's own shell" },
        { name: 'events', description: 'Live container state (Server-Sent Events)' },
        { name: 'webhooks', description: 'Signed lifecycle notifications to other systems' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Session token from /api/auth/login, or an API token (kai_…)' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'kai_session', description: 'Session cookie; state-changing requests also need X-CSRF-Token' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    // Public routes need no credentials; every operation also states who may call it.
    transform: ({ schema, url, route }) => {
      const config = (route.config ?? {}) as { public?: boolean; access?: string };
      const safe = [route.method].flat().every((method) => ['GET', 'HEAD'].includes(String(method)));
      const access = config.public ? 'public' : (config.access ?? (safe ? 'read' : 'admin'));
      const extra: Record<string, unknown> = { 'x-kai-access': access };
      if (config.public) extra.security = [];
      return { schema: { ...(schema ?? {}), ...extra } as typeof schema, url };
    },
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
