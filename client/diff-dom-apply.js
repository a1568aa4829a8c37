// diff-dom's apply code alone, from its TypeScript sources (its public entry would bundle
// the differ too, 26 KB more). Those sources are not strict-TS clean, so tsc sees only
// diff-dom-apply.d.ts beside this file, never them; esbuild bundles the real code.
// They are not diff-dom's public API: package.json pins diff-dom's exact version.
export { applyDOM } from 'diff-dom/src/diffDOM/dom/apply'
