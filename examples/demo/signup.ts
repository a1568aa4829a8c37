import { LiveView, defineEvents } from '../../plugin.js'

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

/**
 * `/form`: a sign-up form checked on the server. `lv-change` validates the fields touched
 * so far (the changed one is `_target`), so untouched fields show no error yet;
 * `lv-submit` checks them all. No params schema: free-form fields with friendly messages
 * next to each is the point here, not a protocol error.
 */
export class Signup extends LiveView {
  static template = 'form'
  static title = 'Sign up'
  static events = defineEvents<Signup>({ validate: true, save: true, restart: true })

  values: SignupValues = { ...EMPTY }
  errors: SignupErrors = {}
  touched: SignupField[] = []
  saved: { name: string, email: string } | null = null

  validate (params: Record<string, unknown>): void {
    this.values = readForm(params)
    const target = params._target
    if (typeof target === 'string' && (FIELDS as readonly string[]).includes(target) && !this.touched.includes(target as SignupField)) {
      this.touched.push(target as SignupField)
    }
    const all = checkForm(this.values)
    this.errors = {}
    for (const field of this.touched) if (all[field] !== undefined) this.errors[field] = all[field]
  }

  save (params: Record<string, unknown>): void {
    this.values = readForm(params)
    this.errors = checkForm(this.values)
    this.touched = [...FIELDS]
    if (Object.keys(this.errors).length > 0) return
    this.saved = { name: this.values.name.trim(), email: this.values.email.trim() }
    this.values = { ...EMPTY }
    this.touched = []
  }

  restart (): void {
    this.saved = null
    this.values = { ...EMPTY }
    this.errors = {}
    this.touched = []
  }

  context (): { values: SignupValues, errors: SignupErrors, saved: { name: string, email: string } | null } {
    return { values: this.values, errors: this.errors, saved: this.saved }
  }
}
