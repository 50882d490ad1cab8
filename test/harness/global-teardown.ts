import type { DevServer } from '../../infra/temporal/dev-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__MANDATE_DEV_SERVER__ as DevServer | undefined;
  await server?.stop();
}
