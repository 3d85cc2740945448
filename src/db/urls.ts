/** The same server's URL with another database name: for CREATE/DROP DATABASE and per-run databases. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
