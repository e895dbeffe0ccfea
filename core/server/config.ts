import { z } from 'zod';

/**
 * The `server:` section: one HTTP/WebSocket listener shared by every live source and sink.
 * Components that serve connections read it through the SERVER_CONFIG token.
 */
export const serverConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0').describe('address to listen on'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port (0 = any free port)'),
    tls: z
      .object({
        key: z.string().min(1).describe('path to the PEM private key'),
        cert: z.string().min(1).describe('path to the PEM certificate chain'),
      })
      .strict()
      .optional()
      .describe('serve https and wss on the same port'),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;
