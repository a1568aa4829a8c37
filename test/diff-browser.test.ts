// The diff engine checked in real Chromium, over a fixed set of the property test's cases.
//
// Patches are computed in Node (lib/diff.ts), then applied in one Chromium page by the
// client's own apply code (client/apply.ts, bundled with esbuild as the real build does),
// to a root whose HTML Chromium parsed from the raw old render. After every step the root
// must equal a fresh element given the raw new render: same serialisation, same form state
// (values, checkedness, selectedness), same namespaces. Chromium parses to the HTML
// standard, so the "messy" pages (tables without tbody, a div inside a p) and a <pre>'s
// leading newline are checked here as they are, which happy-dom cannot do (diff.test.ts).
import t, { type Test } from 'tap'
import type { Browser } from 'playwright-core'
import { launchChromium } from './chromium.js'
import { bundleScript } from './client-harness.js'
import { FULL_HTML, Rendered, diffPaths, diffRendered } from '../lib/diff.js'
import type { Patch } from '../lib/protocol.js'
import { mutate, randomModel, render, rng } from './fixtures/pages.js'


t.setTimeout(60000)

/** What the user does before a step's patch arrives: set a property, or click. */
type UserAction = [selector: string, property: 'checked' | 'value' | 'selected' | 'click', value?: unknown]
/** One update: the patch sent (null: nothing changed, 'full': full HTML) and the new render. */
interface Step { patch: Patch | null | 'full', html: string, user?: UserAction[] }
interface Case { name: string, old: string, steps: Step[] }
interface Failure { name: string, step: number, applied: boolean, error?: string, found: string, wanted: string, foundState: string, wantedState: string, plain?: string }

/** Computes each step's patch in Node, as the server would send it. */
function makeCase (name: string, htmls: string[], users: Array<UserAction[] | undefined> = []): Case {
  let prev = new Rendered(htmls[0] as string)
  const steps = htmls.slice(1).map((html, i): Step => {
    const next = new Rendered(html)
    const patch = diffRendered(prev, next)
    prev = next
    const step: Step = {
      // Through JSON, as on the wire.
      patch: patch === FULL_HTML ? 'full' : patch === undefined ? null : JSON.parse(JSON.stringify(patch)) as Patch,
      html
    }
    if (users[i] !== undefined) step.user = users[i]
    return step
  })
  return { name, old: htmls[0] as string, steps }
}

// The client's applyPatch, and diff-dom's apply alone (no client hooks) to tell, when
// something is wrong, whether the patch or the client's handling of it is.
const script = await bundleScript('diff-browser-entry.ts', [
  "import { applyPatch } from './client/apply.ts'",
  "import { applyDOM } from 'diff-dom/src/diffDOM/dom/apply'",
  "import { DIFF_CONST_NAMES } from './lib/protocol.ts'",
  'const _const = Object.fromEntries(DIFF_CONST_NAMES.map((n, i) => [n, i]))',
  'const g = globalThis as any',
  'g.lvApplyPatch = applyPatch',
  'g.lvApplyPlain = (root: Element, patch: any[]) => applyDOM(root, patch, {',
  '  _const, document: root.ownerDocument, valueDiffing: true, simplifiedElementCheck: false,',
  '  textDiff (node, _c, _e, value) { node.data = value }, preDiffApply: () => false, postDiffApply () {}',
  '})'
])

let browser: Browser | undefined
t.teardown(async () => { await browser?.close() })
browser = await launchChromium()
const page = await (await browser.newContext()).newPage()
const pageErrors: string[] = []
page.on('pageerror', (e) => { pageErrors.push(String(e)) })
// A doctype: without one the page is in quirks mode, where a <table> does not close an open <p>.
await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>')
await page.addScriptTag({ content: script })

/**
 * Runs cases in the page, step by step, with the client's applyPatch (or diff-dom's apply
 * alone). After a mismatch the root is reset to the new HTML, as the client resyncs.
 */
async function runInChromium (cases: Case[], applier: 'lvApplyPatch' | 'lvApplyPlain' = 'lvApplyPatch'): Promise<{ failures: Failure[], steps: number }> {
  return await page.evaluate(([cases, applier]) => {
    const apply = (globalThis as unknown as Record<string, (root: Element, patch: unknown) => boolean>)[applier]!
    const root = document.getElementById('root')!
    // Form state, and namespaces (an SVG element made in the HTML namespace serialises the same).
    const state = (el: Element): string => [...el.querySelectorAll('*')].map((n) => {
      let s = n.namespaceURI === 'http://www.w3.org/1999/xhtml' ? '' : `{${n.namespaceURI}}`
      for (const a of n.attributes) if (a.namespaceURI !== null) s += `@{${a.namespaceURI}}${a.localName}`
      if (n instanceof HTMLInputElement) s += n.type === 'checkbox' || n.type === 'radio' ? `checked=${n.checked}` : `value=${JSON.stringify(n.value)}`
      if (n instanceof HTMLTextAreaElement) s += `value=${JSON.stringify(n.value)}`
      if (n instanceof HTMLOptionElement) s += `selected=${n.selected}`
      return s
    }).join('|')
    const failures: Failure[] = []
    let steps = 0
    for (const c of cases) {
      root.innerHTML = c.old
      for (let i = 0; i < c.steps.length; i++) {
        const s = c.steps[i]!
        steps++
        for (const [selector, property, value] of s.user ?? []) {
          const target = root.querySelector(selector) as HTMLElement & Record<string, unknown>
          if (property === 'click') target.click()
          else target[property] = value
        }
        let applied = true
        let error: string | undefined
        if (s.patch === 'full') {
          root.innerHTML = s.html
        } else if (s.patch !== null) {
          try {
            applied = apply(root, s.patch)
          } catch (e) {
            applied = false
            error = String(e)
          }
        }
        const fresh = document.createElement('div')
        fresh.innerHTML = s.html
        const found = root.innerHTML
        const wanted = fresh.innerHTML
        const foundState = state(root)
        const wantedState = state(fresh)
        if (!applied || found !== wanted || foundState !== wantedState) {
          const failure: Failure = { name: c.name, step: i, applied, found, wanted, foundState, wantedState }
          if (error !== undefined) failure.error = error
          failures.push(failure)
          root.innerHTML = s.html
        }
      }
    }
    return { failures, steps }
  }, [cases, applier] as const)
}

/** The first difference of two strings, with some context. */
function shortDiff (a: string, b: string): string {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  const from = Math.max(0, i - 60)
  return `at ${i}:\n  found:  ${JSON.stringify(a.slice(from, i + 80))}\n  wanted: ${JSON.stringify(b.slice(from, i + 80))}`
}

/** Reports the first failures, each with what diff-dom's apply alone makes of the same steps. */
async function report (t: Test, cases: Case[], failures: Failure[]): Promise<void> {
  const shown = failures.slice(0, 8)
  const replayed = cases.filter((c) => shown.some((f) => f.name === c.name))
  const plain = (await runInChromium(replayed, 'lvApplyPlain')).failures
  for (const f of shown) {
    const p = plain.find((p) => p.name === f.name && p.step === f.step)
    f.plain = p === undefined
      ? 'right: the patch is right, the client\'s handling of it is not'
      : `also wrong (${p.applied ? (p.found !== p.wanted ? shortDiff(p.found, p.wanted) : shortDiff(p.foundState, p.wantedState)) : 'returned false'})`
  }
  for (const f of shown) {
    const c = cases.find((c) => c.name === f.name)!
    const step = c.steps[f.step]!
    const old = f.step === 0 ? c.old : c.steps[f.step - 1]!.html
    t.fail(`${f.name} step ${f.step}: ${f.applied ? 'wrong result' : 'apply returned false'}${f.error ? ` (${f.error})` : ''}`, {
      diff: f.found !== f.wanted ? shortDiff(f.found, f.wanted) : shortDiff(f.foundState, f.wantedState),
      'diff-dom apply alone': f.plain,
      old,
      new: step.html,
      patch: JSON.stringify(step.patch)
    })
  }
}

t.test('random pages: patches applied in Chromium give exactly the browser\'s parse of the new render', async (t) => {
  const SEEDS = 150
  const STEPS = 4
  const cases: Case[] = []
  const paths = { ...diffPaths }
  let full = 0
  let unchanged = 0
  let messy = 0
  const started = performance.now()
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rng(seed)
    // A third of the pages are messy, chosen by seed rather than at random.
    let model = randomModel(r, seed % 3 === 0)
    if (model.messy) messy++
    const htmls = [render(model)]
    for (let step = 0; step < STEPS; step++) {
      model = mutate(r, model)
      htmls.push(render(model))
    }
    const c = makeCase(`seed ${seed}${model.messy ? ' (messy)' : ''}`, htmls)
    for (const s of c.steps) {
      if (s.patch === 'full') full++
      if (s.patch === null) unchanged++
    }
    cases.push(c)
  }
  const scan = diffPaths.scan - paths.scan
  const whole = diffPaths.whole - paths.whole
  const diffed = performance.now()
  const { failures, steps } = await runInChromium(cases)
  const applied = performance.now()
  await report(t, cases, failures)
  t.equal(steps, SEEDS * STEPS, 'every step ran')
  t.equal(failures.length, 0, `${SEEDS} pages (${messy} messy) × ${STEPS} steps: ${failures.length} mismatches; ` +
    `${scan} scan path, ${whole} whole-tree, ${full} FULL_HTML, ${unchanged} unchanged; ` +
    `diffs ${Math.round(diffed - started)} ms, Chromium ${Math.round(applied - diffed)} ms`)
  t.equal(full, 0, 'no FULL_HTML (no lv-update="ignore" in these pages)')
  t.same(pageErrors, [], 'no page errors')
})

const long = (n: number, insertAt?: number, keyed = true): string => {
  const items = Array.from({ length: n }, (_, i) => i)
  if (insertAt !== undefined) items.splice(insertAt, 0, 999)
  return `<ul>${items.map((i) => `<li${keyed ? ` id="i${i}"` : ''}>item ${i}</li>`).join('\n')}</ul>`
}
const select = (chosen: number[], multiple = false): string =>
  `<select name="s"${multiple ? ' multiple' : ''}>${[0, 1, 2].map((i) => `<option value="${i}"${chosen.includes(i) ? ' selected' : ''}>o${i}</option>`).join('')}</select>`

t.test('hand-written cases in Chromium', async (t) => {
  const cases: Case[] = [
    makeCase('entities in text and attributes', [
      '<p title="a &amp; b">x &amp; y</p><input value="1">',
      '<p title="it&#39;s &quot;q&quot;">it&#39;s &quot;q&quot; &amp; z</p><input value="&quot;v&quot; &amp; w">',
      '<p title="&lt;b&gt;" data-x=\'a"b\'>&lt;b&gt; &nbsp;&copy;&#x41;</p><input value="it&#39;s">',
      '<p>plain</p><input value="">'
    ]),
    makeCase('checkbox set by script, then the attribute added and removed: the property follows', [
      '<label><input type="checkbox" id="c"> one</label>',
      '<label><input type="checkbox" id="c" checked> one</label>',
      '<label><input type="checkbox" id="c"> one</label>',
      '<label><input type="checkbox" id="c" checked> two</label>'
    ], [[['#c', 'checked', true]]]),
    makeCase('checkbox clicked, then the attribute removed and added: the property follows', [
      '<input type="checkbox" id="c" checked><span>on</span>',
      '<input type="checkbox" id="c"><span>off</span>',
      '<input type="checkbox" id="c" checked><span>on</span>',
      '<input type="checkbox" id="c"><span>off</span>'
    ], [[['#c', 'click']]]),
    makeCase('radio buttons', [
      '<input type="radio" name="r" id="a" checked><input type="radio" name="r" id="b">',
      '<input type="radio" name="r" id="a"><input type="radio" name="r" id="b" checked>',
      '<input type="radio" name="r" id="a" checked><input type="radio" name="r" id="b">'
    ], [[['#b', 'click']]]),
    makeCase('select: the selected option changes, also after the user chose another', [
      select([1]),
      select([2]),
      select([0]),
      select([2]),
      select([])
    ], [undefined, [['select', 'value', '1']], [['select', 'value', '0']]]),
    makeCase('select multiple', [
      select([0], true),
      select([0, 2], true),
      select([1], true),
      select([], true)
    ], [undefined, [['option[value="1"]', 'selected', true]]]),
    makeCase('textarea text changes, also after the user typed', [
      '<textarea name="t">abc</textarea>',
      '<textarea name="t">abd &amp; more</textarea>',
      '<textarea name="t">typed</textarea>',
      '<textarea name="t">\nleading newline</textarea>',
      '<textarea name="t">\n\ntwo newlines</textarea>',
      '<textarea name="t"></textarea>'
    ], [undefined, [['textarea', 'value', 'typed']]]),
    makeCase('text input value attribute changes, also after the user typed', [
      '<input name="n" value="a">',
      '<input name="n" value="b">',
      '<input name="n" value="typed">',
      '<input name="n" value="c">',
      '<input name="n">'
    ], [undefined, [['input', 'value', 'typed']]]),
    makeCase('SVG attributes and elements', [
      '<svg viewBox="0 0 10 10"><g><circle cx="5" cy="5" r="1"/></g></svg>',
      '<svg viewBox="0 0 20 20"><g><circle cx="5" cy="5" r="4"/></g></svg>',
      '<svg viewBox="0 0 20 20"><g><circle cx="5" cy="5" r="4"/><rect width="2" height="3"/><foreignObject><p>x</p></foreignObject></g></svg>',
      '<svg viewBox="0 0 20 20"><g><circle cx="6" cy="5"/><use xlink:href="#a"/><text x="1">t &amp; u</text></g></svg>',
      '<p>no svg</p>',
      '<svg viewBox="0 0 5 5"><linearGradient id="g" gradientUnits="userSpaceOnUse"/></svg>'
    ]),
    makeCase('<pre> with a leading newline', [
      '<pre>\nabc</pre>',
      '<pre>\nabd</pre>',
      '<pre>\n\nabd</pre>',
      '<pre>x\n</pre>',
      '<pre>\n</pre>',
      '<div><pre>\n<b>bold</b>\n</pre><listing>\nl</listing></div>',
      '<div><pre>\n<b>bolder</b>\n</pre><listing>\nm</listing></div>'
    ]),
    makeCase('comments', [
      '<p>a</p><!--one--><p>b</p>',
      '<p>a</p><!--two--><p>b</p>',
      '<p>a</p><!-- x > y --><p>b</p>',
      '<p>a</p><p>b</p>',
      '<!--first--><p>a</p><p>b<!--inner--></p>'
    ]),
    makeCase('60 keyed items, one inserted in the middle', [long(60), long(60, 30), long(60)]),
    makeCase('60 unkeyed items, one inserted in the middle', [long(60, undefined, false), long(60, 30, false), long(60, undefined, false)]),
    makeCase('markup the parser repairs', [
      '<table><tr><td>1</td></tr></table><p>p <div>d</div></p>',
      '<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table><p>p <div>d2</div> tail</p>',
      '<table><caption>c</caption><tr><td>1</td></tr></table><p><div></div></p><ul><li>a<li>b</ul>'
    ])
  ]
  const sizes = cases.filter((c) => c.name.startsWith('60 ')).map((c) => JSON.stringify(c.steps[0]!.patch).length)
  const started = performance.now()
  const { failures, steps } = await runInChromium(cases)
  await report(t, cases, failures)
  t.equal(steps, cases.reduce((n, c) => n + c.steps.length, 0), 'every step ran')
  t.equal(failures.length, 0, `${cases.length} cases, ${steps} steps: ${failures.length} mismatches ` +
    `(insert into 60 items: patches of ${sizes.join(' and ')} bytes; Chromium ${Math.round(performance.now() - started)} ms)`)
  t.same(pageErrors, [], 'no page errors')
})
