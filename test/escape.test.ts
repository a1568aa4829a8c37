// Escaping of `<%= %>` (lib/escape.ts): the memo never changes what a value escapes to,
// whether the string is new, remembered, aged into the older generation or dropped.
import t from 'tap'
import { escapeHtml, escapeText } from '../lib/escape.js'

const naive = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

t.test('the five characters become references, everything else is kept', async (t) => {
  t.equal(escapeHtml(`<a href="x?a=1&b='2'">`), '&lt;a href=&quot;x?a=1&amp;b=&#39;2&#39;&quot;&gt;')
  t.equal(escapeHtml('plain text é ✓'), 'plain text é ✓')
  t.equal(escapeHtml(''), '')
  t.equal(escapeHtml(42), '42')
  t.equal(escapeHtml(-0.5), '-0.5')
  t.equal(escapeHtml(true), 'true')
  t.equal(escapeHtml(null), 'null')
  t.equal(escapeHtml(undefined), 'undefined')
  t.equal(escapeHtml({ toString: () => '<b>' }), '&lt;b&gt;')
  t.equal(escapeText('&&&'), '&amp;&amp;&amp;')
})

t.test('memoised or not, every string escapes as the plain rule says', async (t) => {
  let s = 7
  const random = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
  const alphabet = 'ab <>&"\'é✓\n'
  const word = (): string => {
    const length = Math.floor(random() * (random() < 0.1 ? 600 : 20))
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)]
    return out
  }
  // Enough distinct strings to roll both generations over several times, with repeats.
  const pool = Array.from({ length: 3000 }, word)
  let wrong = 0
  for (let i = 0; i < 20000; i++) {
    const text = pool[Math.floor(random() * (i < 10000 ? 300 : pool.length))] as string
    if (escapeHtml(text) !== naive(text)) wrong++
  }
  t.equal(wrong, 0, 'no escaped string differs from the plain rule')
})
