// Which files an upload takes: shared by the server (its check of each declared file) and
// the browser client (its first check, before any byte is sent). Free of Node and DOM
// imports: the upload chunk bundles it.

/**
 * True when a file of that name and MIME type is one `accept` takes: an entry `.png` by
 * extension, `image/png` by type, `image/*` by the type's first part (entries lower-case;
 * undefined: any file).
 */
export function accepts (accept: readonly string[] | undefined, clientName: string, clientType: string): boolean {
  if (accept === undefined) return true
  const name = clientName.toLowerCase()
  const type = clientType.toLowerCase()
  return accept.some((a) => a.startsWith('.')
    ? name.endsWith(a)
    : a.endsWith('/*') ? type.startsWith(a.slice(0, -1)) : type === a)
}
