import pg from 'pg';

/**
 * Runs `work` with a dedicated connection to `url`, closed afterwards whether `work` succeeds or throws.
 * For short administrative work; batch loops hold their own connections.
 */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
