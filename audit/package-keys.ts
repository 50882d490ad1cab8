/** PEM blocks of a keys file, each with its BEGIN/END lines. */
export function splitPem(bytes: Buffer | undefined): string[] {
  const text = bytes?.toString('utf8') ?? '';
  return [...text.matchAll(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g)].map((m) => `${m[0]}\n`);
}
