import { JS, LiveView, defineEvents, type DomParams } from '../../plugin.js'

export interface SignupValues {
  name: string
  email: string
  age: string
  terms: boolean
}

export type SignupField = keyof SignupValues
export type SignupErrors = Partial<Record<SignupField, string>>

const FIELDS: readonly SignupField[] = ['name', 'email', 'age', 'terms']
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function text (value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** Reads the form's fields as the client sends them (strings; an unchecked box is absent). */
export function readForm (params: Record<string, unknown>): SignupValues {
  const terms = params.terms
  return {
    name: text(params.name),
    email: text(params.email),
    age: text(params.age),
    terms: terms === true || (typeof terms === 'string' && terms !== '' && terms !== 'false' && terms !== 'off')
  }
}

/** Every problem of a filled-in form, by field. */
export function checkForm (v: SignupValues): SignupErrors {
  const errors: SignupErrors = {}
  const name = v.name.trim()
  if (name === '') errors.name = 'Please enter your name.'
  else if (name.length > 80) errors.name = 'Please keep your name under 80 characters.'
  if (!EMAIL.test(v.email.trim())) errors.email = 'Please enter an email address like ada@example.com.'
  const age = v.age.trim()
  if (age === '') errors.age = 'Please enter your age.'
  else if (!/^\d+$/.test(age)) errors.age = 'Age must be a whole number.'
  else if (Number(age) < 13) errors.age = 'You must be at least 13 to sign up.'
  else if (Number(age) > 120) errors.age = 'Please enter an age of 120 or less.'
  if (!v.terms) errors.terms = 'Please accept the terms to sign up.'
  return errors
}

const EMPTY: SignupValues = { name: '', email: '', age: '', terms: false }
const PLANS = ['personal', 'team'] as const
type Plan = typeof PLANS[number]

/**
 * `/form`: a sign-up form checked on the server. `lv-change` checks every field; the template
 * shows a field's error once the user has used the field (`it.used`, which the client
 * sends: typed in or changed, or every field once submitted), so untouched fields show
 * none yet. No params schema: free-form fields with friendly messages next to each is the
 * point here, not a protocol error. The plan menu and the terms dialog are client-side
 * commands (`JS`): they open and close without a round trip.
 */
export class Signup extends LiveView {
  static template = 'form'
  static title = 'Sign up'
  static events = defineEvents<Signup>({ validate: true, save: true, restart: true, plan: true })

  values: SignupValues = { ...EMPTY }
  errors: SignupErrors = {}
  chosen: Plan = 'personal'
  saved: { name: string, email: string, plan: Plan } | null = null

  validate (params: Record<string, unknown>): void {
    this.values = readForm(params)
    this.errors = checkForm(this.values)
  }

  save (params: Record<string, unknown>): void {
    this.validate(params)
    if (Object.keys(this.errors).length > 0) return
    this.saved = { name: this.values.name.trim(), email: this.values.email.trim(), plan: this.chosen }
    this.values = { ...EMPTY }
  }

  /** The plan menu's choice (`lv-value-plan`). */
  plan (params: DomParams): void {
    const plan = PLANS.find((p) => p === params.plan)
    if (plan !== undefined) this.chosen = plan
  }

  restart (): void {
    this.saved = null
    this.values = { ...EMPTY }
    this.errors = {}
  }

  context (): object {
    return { JS, values: this.values, errors: this.errors, saved: this.saved, plan: this.chosen, plans: PLANS }
  }
}
