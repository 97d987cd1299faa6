// User names as people read them. A name is NFKC-normalised first (so
// "ａｎｎ" and "ann" are one name), then it must be written in one script
// (TR39's "highly restrictive" level: Latin may mix with Han, Hiragana,
// Katakana, Bopomofo or Hangul, nothing else mixes), and it must not be a
// whole-script look-alike of a Latin name (Cyrillic "асе" is read as "ace").
// So the Cyrillic "а" in "аnn" is refused instead of showing as a second
// "ann". Digits are ASCII only; other number forms are refused.
import { USER_PATTERN } from './limits.js'

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string }

const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali',
  'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan',
  'Myanmar', 'Khmer', 'Ethiopic', 'Cherokee', 'Mongolian', 'Hangul', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
] as const
const SCRIPT_TESTS = SCRIPTS.map((name) => ({ name, re: new RegExp(`^\\p{Script=${name}}$`, 'u') }))
/** Scripts that may appear together in one name (besides a single script alone). */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
]
/** Cyrillic and Greek letters that are drawn like Latin ones (from Unicode's confusables.txt). */
const LATIN_LOOKALIKES = new Set([
  ...'аеорсухіјѕһԁԛԝӏӀАВЕКМНОРСТХУЅІЈԚԜҮ',
  ...'αονρυικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ',
])

function scriptOf(ch: string): string {
  for (const { name, re } of SCRIPT_TESTS) if (re.test(ch)) return name
  return 'Other'
}

export function checkUserName(raw: unknown): NameCheck {
  if (typeof raw !== 'string' || raw.length > 4 * 24) return { ok: false, reason: 'not a name' }
  const name = raw.normalize('NFKC')
  if (!USER_PATTERN.test(name)) return { ok: false, reason: 'characters' }
  const letters = [...name].filter((ch) => /\p{L}/u.test(ch))
  if ([...name].some((ch) => /\p{N}/u.test(ch) && !/[0-9]/.test(ch))) return { ok: false, reason: 'digits other than 0-9' }
  const scripts = new Set(letters.map(scriptOf))
  if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s)))) return { ok: false, reason: 'mixed scripts' }
  if (letters.length > 0 && !scripts.has('Latin') && letters.every((ch) => LATIN_LOOKALIKES.has(ch))) return { ok: false, reason: 'looks like a Latin name' }
  return { ok: true, name }
}
