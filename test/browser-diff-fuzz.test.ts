// The page rule in real Chromium, with the shipped client code: after every update the
// live root equals a fresh parse of the raw new render (fuzz-page.ts says exactly what is
// compared, and the rule's two exceptions: lv-update="ignore" regions, the user's edits).
//
// Each step: the server renders N+1, computes the patch with diffRendered, sends it as JSON;
// the page applies it with the client's applyPatch (or morphs full HTML in, when the server
// says so) and compares. A second page morphs every step's full HTML instead (the join and
// resync path). Before some steps the user types into a field, checks a box or picks an
// option. First the defects the generated renders found, by name; then the renders.
//
// DIFF_FUZZ_SEED=<n> replays a run, DIFF_FUZZ_N=<steps> sets its size. A failure prints the
// seed, the case, and the smallest old/new pair that still fails.
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { bundleScript } from './client-harness.js'
import { launchChromium } from './chromium.js'
import { FULL_HTML, Rendered, diffRendered } from '../lib/diff.js'
import { encodePatch } from '../lib/patch-codec.js'
import { clone, elements, render, rng, type El, type MarkupClass, type Node, type UserAct } from './fixtures/fuzz-html.js'
import { CLASSES, page as firstPage } from './fixtures/fuzz-classes.js'
import type { FuzzCase, FuzzFailure, FuzzStep, Track } from './fuzz-page.js'

const SEED = Number(process.env.DIFF_FUZZ_SEED ?? 20261130)
const N = Number(process.env.DIFF_FUZZ_N ?? 5000)
const STEPS = 8
t.setTimeout(240000)

/** The server's side of a case: each step's patch, as JSON (as on the wire). */
function serve (id: string, htmls: string[], user: Array<UserAct[] | undefined> = []): FuzzCase {
  let prev = new Rendered(htmls[0]!)
  const steps = htmls.slice(1).map((html, i): FuzzStep => {
    const next = new Rendered(html)
    const patch = diffRendered(prev, next)
    prev = next
    // Parsed in the page: a deep patch is too deep for Playwright's own transfer.
    // In its wire form (lib/patch-codec.ts), as the server sends it.
    const step: FuzzStep = { html, patch: patch === FULL_HTML ? 'full' : patch === undefined ? null : JSON.stringify(encodePatch(patch)) }
    if (user[i] !== undefined) step.user = user[i]
    return step
  })
  return { id, old: htmls[0]!, steps }
}

const script = await bundleScript('fuzz-entry.ts', [
  "import { applyPatch } from './client/apply.ts'",
  "import { decodePatch } from './lib/patch-codec.ts'",
  "import { morph } from './client/morph.ts'",
  "import { run } from './test/fuzz-page.ts'",
  '(globalThis as any).lvFuzz = (cases: any, track: any) => run(((root: Element, wire: unknown) => applyPatch(root, decodePatch(wire))) as any, morph, cases, track)'
])

let browser: Browser | undefined
t.teardown(async () => { await browser?.close() })
browser = await launchChromium()
const pageErrors: string[] = []

async function openPage (): Promise<Page> {
  const page = await (await browser!.newContext()).newPage()
  page.on('pageerror', (e) => { pageErrors.push(String(e)) })
  // A doctype: no quirks, as parse5 parses (a table closes an open p).
  await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>')
  await page.addScriptTag({ content: script })
  return page
}

const pages: Record<Track, Page> = { patch: await openPage(), morph: await openPage() }
interface Result { failures: FuzzFailure[], steps: number, full: number }

async function replay (cases: FuzzCase[], track: Track): Promise<Result> {
  return await pages[track].evaluate(([cases, track]) =>
    (globalThis as unknown as { lvFuzz: (c: unknown, t: unknown) => Result }).lvFuzz(cases, track), [cases, track] as const)
}

/** Both tracks of `cases`: failures of either. */
async function both (cases: FuzzCase[]): Promise<FuzzFailure[]> {
  const [patched, morphed] = await Promise.all([replay(cases, 'patch'), replay(cases, 'morph')])
  return [...patched.failures, ...morphed.failures]
}

// ---- named cases -----------------------------------------------------------------

/** A named case: renders in turn, what the user does before a step, whether the server answers full HTML. */
interface Regression { name: string, htmls: string[], user?: Array<UserAct[] | undefined>, full?: boolean }

const regressions: Regression[] = [
  {
    name: 'value, checked and selected on elements that are no fields (output, progress, meter, li, div, span) change as attributes only',
    htmls: [
      '<output name="o" value="1">7</output><progress value="3" max="10">p</progress><meter value="0.5">m</meter><ol><li value="3">x</li></ol><div value="1" checked selected>d</div><span value="2">s</span>',
      '<output name="o" value="2">7</output><progress value="4" max="10">p</progress><meter value="0.7">m</meter><ol><li value="abc">x</li></ol><div value="2">d</div><span checked>s</span>',
      '<output name="o">8</output><progress max="10">p</progress><meter>m</meter><ol><li>x</li></ol><div>d</div><span>s</span>'
    ],
    full: false
  },
  {
    name: 'a textarea shows its text whatever its value attribute says; a select has no value attribute',
    htmls: ['<textarea value="a">text</textarea><select value="2"><option>1</option><option>2</option></select>',
      '<textarea value="b">text</textarea><select value="1"><option>1</option><option>2</option></select>',
      '<textarea>new text</textarea><select><option>1</option><option>2</option></select>'],
    full: false
  },
  {
    name: 'removing the value attribute of a hidden input or a checkbox leaves no value=""',
    htmls: ['<input type="hidden" value="a"><input type="checkbox" value="x"><input value="t">', '<input type="hidden"><input type="checkbox"><input>'],
    full: false
  },
  {
    name: 'a select: an option inserted before the one shown is shown if it comes first; of two selected options the last one',
    htmls: ['<select><option>a</option><option>b</option></select><select><option>x</option><option selected>y</option></select>',
      '<select><option>z</option><option>a</option><option>b</option></select><select><option selected>w</option><option>x</option><option selected>y</option></select>',
      '<select><option>z</option><option>a</option><option>b</option></select><select><option selected>w</option><option>x</option><option>y</option></select>'],
    full: false
  },
  {
    name: 'a select that becomes multiple and single again, and one that shows a list (size)',
    htmls: ['<select><option>a</option><option>b</option></select><select size="3"><option>a</option></select>',
      '<select multiple><option>a</option><option>b</option></select><select><option>a</option></select>',
      '<select><option>a</option><option selected>b</option></select><select size="3"><option>a</option></select>'],
    full: false
  },
  {
    name: 'a select whose only enabled option becomes disabled shows none (a disabled select disables no option)',
    htmls: ['<fieldset><select disabled><option></option></select><select><option>a</option></select></fieldset>',
      '<fieldset><select disabled><option disabled></option></select><select><option disabled>a</option></select></fieldset>'],
    full: false
  },
  {
    name: 'radio buttons whose name the server changes join or leave a group',
    htmls: ['<p><input type="radio" name="a" checked><input type="radio" name="b" checked></p>',
      '<p><input type="radio" name="b" checked><input type="radio" name="b" checked></p>',
      '<p><input type="radio" name="b" checked><input type="radio" name="a" checked></p>',
      '<p><input type="radio" name="b" checked><input type="radio" name="a" checked><input type="radio" name="b" checked></p>'],
    full: false
  },
  {
    name: 'a template\'s changes go to its content, whose select and input are built as parsed',
    htmls: ['<div><template><p>one</p><select><option>a</option></select></template></div>',
      '<div><template><p>two</p><select><option>z</option><option>a</option></select><template><b>inner</b></template></template></div>',
      '<div><template><p>two</p><select><option>z</option><option>a</option></select><template><b>inner</b><i>more</i></template><input type="range" min="10" max="100"></template></div>'],
    full: false
  },
  {
    name: 'MathML added by a patch is MathML; HTML added in foreignObject or annotation-xml is HTML; xlink:href in an added div\'s SVG is namespaced',
    htmls: ['<div><svg><foreignObject></foreignObject></svg><math><annotation-xml encoding="text/html"></annotation-xml></math></div>',
      '<div><svg><foreignObject><p>html <b>here</b></p></foreignObject></svg><math><annotation-xml encoding="text/html"><div>h</div></annotation-xml></math><math><mi>x</mi><mtext><b>t</b></mtext></math></div>',
      '<div><svg><foreignObject><p>html <b>here</b></p></foreignObject></svg><math><annotation-xml encoding="text/html"><div>h</div></annotation-xml></math><math><mi>x</mi><mtext><b>t</b></mtext></math><div><svg><use xlink:href="#a" xml:lang="en"/></svg></div></div>'],
    full: false
  },
  {
    name: 'the scan: a quote inside an unquoted attribute value opens no quoted value',
    htmls: ["<div><a title=x'y>a</a><b>1</b><a title=u'v>b</a><p>c</p></div>", "<div><a title=x'y>a</a><b>1</b><a title=u'v>b</a><p>d</p></div>"],
    full: false
  },
  {
    name: 'the scan: an unquoted SVG attribute value ending in / does not close its element',
    htmls: ['<svg><circle r=x/><rect/></svg>', '<svg><g></g><rect/></svg>'],
    full: false
  },
  {
    name: 'the scan: --!> ends a comment',
    htmls: ['<div><!-- a --!><p>1</p><!-- b --><p>x</p></div>', '<div><!-- a --!><p>1</p><!-- b --><p>y</p></div>'],
    full: false
  },
  {
    name: 'the scan: text of NULs only is no text node',
    htmls: ['<div><p>a</p>\0<p>b</p></div>', '<div><p>a</p>\0<p>c</p></div>'],
    full: false
  },
  {
    name: 'text after the rows of a table part is moved before the table, as the parser moves it',
    htmls: ['<section><table><tbody><tr><td>1</td></tr></tbody></table></section>', '<section><table><tbody><tr><td>1</td></tr>moved</tbody></table></section>'],
    full: false
  },
  {
    name: 'where Chromium and parse5 disagree the server sends full HTML: elements in a select or an option',
    htmls: ['<select><div>d</div><option>a</option></select>', '<select><div>e</div><option><b>a</b></option></select>'],
    full: true
  },
  {
    name: 'where Chromium and parse5 disagree the server sends full HTML: a processing instruction',
    htmls: ['<p>a</p><?php echo 1 ?>', '<p>b</p><?php echo 1 ?>'],
    full: true
  },
  {
    name: 'where Chromium and parse5 disagree the server sends full HTML: nesting deeper than 512',
    htmls: ['<p>a</p>' + '<div>'.repeat(520) + 'x' + '</div>'.repeat(520), '<p>b</p>' + '<div>'.repeat(520) + 'y' + '</div>'.repeat(520)],
    full: true
  },
  {
    name: 'where Chromium and parse5 disagree the server sends full HTML: NULs in a row in SVG text, a button in a button',
    htmls: ['<svg><text>\0\0</text></svg><button>x<button>y</button></button>', '<svg><text>\0\0\0</text></svg><button>x<button>z</button></button>'],
    full: true
  },
  {
    name: 'full HTML: <noscript> holds text, table parts at the top are dropped, a number input shows its sanitised value',
    htmls: ['<noscript><b>a</b></noscript><tr><td>x</td></tr><input type="number" value="5">',
      '<noscript><b>b</b></noscript><tr><td>y</td></tr><input type="number" value="abc">',
      '<noscript><b>b</b></noscript><caption>c</caption><input type="number" value="7">']
  },
  {
    name: 'full HTML: a select gaining its selected option and a textarea gaining its text show them',
    htmls: ['<form><select><option>a</option></select><textarea></textarea></form>',
      '<form><select><option>a</option><option selected>b</option></select><textarea>two</textarea></form>']
  },
  {
    name: 'an attribute value with &not and a letter after it stays as the page\'s parser reads it (Chromium\'s innerHTML fast path reads it otherwise)',
    htmls: ["<p><a href=\"#\"></a><span title='&notit;'>1</span></p>", "<p><a href=\"#\"></a><span title='&notit;'>2</span><b title='&notin;'>3</b></p>"]
  },
  {
    name: 'the focused input keeps what the user typed; a box checked and left keeps its check while the server renders it the same',
    htmls: ['<input id="t" value="a"><input id="c" type="checkbox"><input id="d" type="checkbox"><p>1</p>',
      '<input id="t" value="b"><input id="c" type="checkbox"><input id="d" type="checkbox" checked><p>2</p>',
      '<input id="t" value="b"><input id="c" type="checkbox" class="x"><input id="d" type="checkbox"><p>3</p>'],
    user: [[{ op: 'check', id: 'c', focus: false }, { op: 'check', id: 'd', focus: false }, { op: 'type', id: 't', value: 'typed' }]],
    full: false
  },
  {
    name: 'a focused radio keeps its check when the server checks another of its group',
    htmls: ['<input id="a" type="radio" name="r" checked><input id="b" type="radio" name="r"><input id="c" type="radio" name="r">',
      '<input id="a" type="radio" name="r"><input id="b" type="radio" name="r"><input id="c" type="radio" name="r" checked>'],
    user: [[{ op: 'radio', id: 'b' }]],
    full: false
  }
]

t.test('named cases, each on both paths (patch, full HTML): the defects the generated renders found, and the rules for what the user changed', async (t) => {
  for (const r of regressions) {
    const c = serve(r.name, r.htmls, r.user)
    if (r.full !== undefined) t.ok(c.steps.every((s) => (s.patch === 'full') === r.full), `${r.name}: ${r.full ? 'full HTML' : 'patches'}`)
    t.same(await both([c]), [], r.name)
  }
  t.same(pageErrors, [], 'no page errors')
})

// ---- generated renders -----------------------------------------------------------------------

/** A case as generated: the class, the page trees (render i is trees[i]) and the user's acts. */
interface Generated { c: MarkupClass, trees: El[], user: Array<UserAct[] | undefined> }

function* generate (seed: number, n: number): Generator<Generated> {
  const r = rng(seed)
  const total = CLASSES.reduce((w, c) => w + (c.weight ?? 1), 0)
  for (const c of CLASSES) {
    const cases = Math.ceil((n * (c.weight ?? 1)) / total / STEPS)
    for (let k = 0; k < cases; k++) {
      const trees = [firstPage(r, c)]
      const user: Array<UserAct[] | undefined> = []
      for (let s = 0; s < STEPS; s++) {
        const next = clone(trees[trees.length - 1]!)
        for (let e = 1 + Math.floor(r() * 2); e > 0; e--) c.edit(r, next)
        user.push(c.user !== undefined && r() < 0.5 ? c.user(r, trees[trees.length - 1]!) : undefined)
        trees.push(next)
      }
      yield { c, trees, user }
    }
  }
}

/** Removes the node at `path` (child indexes from the page root); false when there is none. */
function removeAt (root: El, path: number[]): boolean {
  let p: El = root
  for (const i of path.slice(0, -1)) {
    const k = p.kids[i]
    if (k?.k !== 'el') return false
    p = k
  }
  const last = path[path.length - 1]!
  if (last >= p.kids.length) return false
  p.kids.splice(last, 1)
  return true
}

function paths (root: El): number[][] {
  const out: number[][] = []
  const walk = (p: El, at: number[]): void => {
    p.kids.forEach((k: Node, i) => {
      out.push([...at, i])
      if (k.k === 'el') walk(k, [...at, i])
    })
  }
  walk(root, [])
  return out
}

/**
 * The smallest pair of renders (old, new) found that still fails on its own: nodes removed
 * from both renders at the same place, then attributes, while it fails.
 */
async function shrink (old: El, next: El, user: UserAct[] | undefined, track: Track): Promise<{ old: string, new: string, failure: FuzzFailure } | undefined> {
  const fails = async (o: El, n: El): Promise<FuzzFailure | undefined> =>
    (await replay([serve('shrink', [render(o), render(n)], [user])], track)).failures[0]
  let failure = await fails(old, next)
  if (failure === undefined) return undefined
  let budget = 300
  for (let progress = true; progress && budget > 0;) {
    progress = false
    for (const path of paths(old).sort((x, y) => x.length - y.length)) {
      if (budget-- <= 0) break
      const o = clone(old)
      const n = clone(next)
      if (!removeAt(o, path)) continue
      removeAt(n, path)
      const f = await fails(o, n)
      if (f !== undefined) {
        [old, next, failure, progress] = [o, n, f, true]
        break
      }
    }
    for (const [e] of elements(old)) {
      for (let i = 0; i < e.attrs.length && budget > 0 && !progress; i++, budget--) {
        const name = e.attrs[i]![0]
        const o = clone(old)
        const n = clone(next)
        const strip = (root: El): void => { for (const [x] of elements(root)) if (JSON.stringify(x.attrs) === JSON.stringify(e.attrs)) x.attrs = x.attrs.filter((y) => y[0] !== name) }
        strip(o)
        strip(n)
        const f = await fails(o, n)
        if (f !== undefined) [old, next, failure, progress] = [o, n, f, true]
      }
    }
  }
  return { old: render(old), new: render(next), failure }
}

t.test(`generated renders in Chromium: the live root always equals a fresh parse of the render (seed ${SEED}, DIFF_FUZZ_SEED to replay)`, async (t) => {
  const generated: Generated[] = []
  const results: Record<Track, Result> = { patch: { failures: [], steps: 0, full: 0 }, morph: { failures: [], steps: 0, full: 0 } }
  const perClass = new Map<string, { steps: number, full: number, user: number }>()
  let serverMs = 0
  const started = performance.now()
  // The server diffs the next batch while the page applies this one.
  let running: Promise<void> = Promise.resolve()
  const cases = generate(SEED, N)
  for (let done = false; !done;) {
    const batch: FuzzCase[] = []
    const before = performance.now()
    for (let k = 0; k < 60; k++) {
      const g = cases.next()
      if (g.done === true) {
        done = true
        break
      }
      const c = serve(`${g.value.c.name} #${generated.length}`, g.value.trees.map(render), g.value.user)
      generated.push(g.value)
      const stats = perClass.get(g.value.c.name) ?? { steps: 0, full: 0, user: 0 }
      stats.steps += c.steps.length
      stats.full += c.steps.filter((s) => s.patch === 'full').length
      stats.user += c.steps.filter((s) => s.user !== undefined).length
      perClass.set(g.value.c.name, stats)
      batch.push(c)
    }
    serverMs += performance.now() - before
    await running
    running = Promise.all((['patch', 'morph'] as const).map(async (track) => {
      const r = await replay(batch, track)
      results[track].failures.push(...r.failures)
      results[track].steps += r.steps
      results[track].full += r.full
    })).then(() => {})
    // Let the page start before the next batch is diffed.
    await new Promise((resolve) => setImmediate(resolve))
  }
  await running
  const steps = results.patch.steps
  t.ok(steps >= N, `${steps} steps, ${generated.length} cases of ${STEPS}, in ${Math.round(performance.now() - started)} ms ` +
    `(server ${Math.round(serverMs)} ms); ${results.patch.full} answered with full HTML`)
  t.equal(results.morph.steps, steps, 'every step morphed too')
  for (const track of ['patch', 'morph'] as const) {
    for (const c of CLASSES) {
      const stats = perClass.get(c.name)!
      const mine = results[track].failures.filter((f) => f.id.startsWith(c.name + ' #'))
      const first = mine[0]
      if (first === undefined) {
        t.pass(`${track}: ${c.name}: all ${stats.steps} steps equal the fresh parse (${stats.user} with user edits, ${stats.full} full HTML)`)
        continue
      }
      const g = generated[Number(first.id.split('#')[1])]!
      const small = await shrink(g.trees[first.step]!, g.trees[first.step + 1]!, g.user[first.step], track)
      t.fail(`${track}: ${c.name}: ${mine.length} of ${stats.steps} steps differ from the fresh parse (DIFF_FUZZ_SEED=${SEED})`, {
        case: `${first.id}, step ${first.step}`,
        applied: first.applied,
        error: first.error,
        line: first.at,
        found: first.found,
        wanted: first.wanted,
        user: g.user[first.step],
        minimal: small === undefined
          ? 'does not fail alone (it needs the steps before it)'
          : { old: small.old, new: small.new, patch: serve('x', [small.old, small.new]).steps[0]!.patch, found: small.failure.found, wanted: small.failure.wanted }
      })
    }
  }
  t.same(pageErrors, [], 'no page errors')
})
