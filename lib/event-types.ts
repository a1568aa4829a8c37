import type { ErrorMessages } from './forms.js'

/**
 * Types of event params, end to end: what a handler may declare given how its event is
 * declared. Types only (nothing here exists at run time).
 *
 * - `true` (no schema): the params are what DOM bindings send: strings (`lv-value-*`, form
 *   fields), lists for a form's repeated names. The handler must accept `DomParams`.
 * - `{ hook: true }` (no schema): a hook's `pushEvent` may send anything JSON: the handler
 *   must accept `unknown`.
 * - `{ schema }`: ajv checks (and coerces) the params first, so the handler gets what the
 *   schema describes. A TypeBox schema carries its type (`static`); a JSON Schema literal
 *   is read by `ParamsOf` (`as const`, or written inline): the two sides must agree.
 */

/** What DOM bindings send without a schema: strings, and lists for repeated form names. */
export type DomParams = Record<string, string | string[] | undefined>

/** Keys of T that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T]

type Simplify<T> = { [K in keyof T]: T[K] } & {}

type RequiredOf<S> = S extends { readonly required: readonly (infer R)[] } ? R : never

type ObjectOf<S> = S extends { readonly properties: infer P }
  ? Simplify<
    { -readonly [K in keyof P as K extends RequiredOf<S> ? K : never]: ParamsOf<P[K]> } &
    { -readonly [K in keyof P as K extends RequiredOf<S> ? never : K]?: ParamsOf<P[K]> }
  >
  : Record<string, unknown>

type FromType<T, S> =
  T extends 'string' ? string
    : T extends 'number' | 'integer' ? number
      : T extends 'boolean' ? boolean
        : T extends 'null' ? null
          : T extends 'array' ? (S extends { readonly items: infer I } ? Array<ParamsOf<I>> : unknown[])
            : T extends 'object' ? ObjectOf<S>
              : unknown

/**
 * The TypeScript type of the values a JSON Schema accepts (the subset event params use:
 * `type` (or a list of types), `properties` / `required`, `items`, `enum`, `const`,
 * `anyOf` / `oneOf`), or of a TypeBox schema (its `static`).
 *
 * @example
 * const Add = { type: 'object', properties: { by: { type: 'integer' } }, required: ['by'] } as const
 * type AddParams = ParamsOf<typeof Add>   // { by: number }
 */
export type ParamsOf<S> =
  S extends { readonly static: infer T } ? T
    : S extends { readonly const: infer C } ? C
      : S extends { readonly enum: readonly (infer E)[] } ? E
        : S extends { readonly anyOf: readonly (infer A)[] } ? ParamsOf<A>
          : S extends { readonly oneOf: readonly (infer A)[] } ? ParamsOf<A>
            : S extends { readonly type: readonly (infer T)[] } ? FromType<T, S>
              : S extends { readonly type: infer T } ? FromType<T, S>
                : unknown

/**
 * The JSON Schemas whose values a handler taking `P` can use: each property's type agrees
 * with P's, and a `required` list (of P's keys) is there when P has required keys. That it
 * lists every one of them is not checked: derive the handler's type with `ParamsOf` (or use
 * TypeBox) for that. A TypeBox schema is checked by its `static` type.
 */
export type SchemaFor<P> =
  unknown extends P ? Record<string, unknown>
    : { readonly static: P } | JsonSchemaFor<NonNullable<P>>

type Extra = Readonly<Record<string, unknown>>

/** The schema of a non-null value of type Q; `never` for what a JSON Schema literal cannot be checked against here (use TypeBox). */
type JsonSchemaFor<Q> =
  [Q] extends [string] ? Extra & ((string extends Q ? { readonly type: 'string' } : never) | { readonly enum: readonly Q[] } | { readonly const: Q })
    : [Q] extends [number] ? Extra & ((number extends Q ? { readonly type: 'number' | 'integer' } : never) | { readonly enum: readonly Q[] } | { readonly const: Q })
      : [Q] extends [boolean] ? Extra & ((boolean extends Q ? { readonly type: 'boolean' } : never) | { readonly const: Q })
        : [Q] extends [ReadonlyArray<infer E>] ? Extra & { readonly type: 'array', readonly items: SchemaFor<E> }
          : [Q] extends [object] ? ObjectSchemaFor<Q>
            : never

type ObjectSchemaFor<P> = Extra & { readonly type: 'object' } & (string extends keyof P
  // A record type: any properties.
  ? { readonly properties?: Extra }
  : ([keyof P] extends [never] ? unknown : { readonly properties: { readonly [K in keyof P]?: SchemaFor<Exclude<P[K], undefined>> } }) &
    ([RequiredKeys<P>] extends [never] ? unknown : { readonly required: ReadonlyArray<keyof P & string> }))

/** The params type of a handler (a handler that takes none accepts anything). */
export type HandlerParams<F> = F extends (...args: infer A) => unknown ? (A extends [] ? unknown : A[0]) : never

/**
 * How an event whose handler takes `P` may be declared (see the top of this file): a
 * declaration the handler's type does not fit is a compile error.
 */
export type EventSpecFor<P> =
  | (DomParams extends P ? true | { readonly hook?: false, readonly schema?: undefined } : never)
  | (unknown extends P ? { readonly hook: true, readonly schema?: undefined } : never)
  | { readonly schema: SchemaFor<P>, readonly hook?: boolean, readonly onInvalid?: 'render' | 'refuse', readonly messages?: ErrorMessages }
