// User names as people read them: NFKC first, one script, and no
// whole-script look-alikes of Latin names, so the Cyrillic "а" in "аnn" is
// refused instead of showing as a second "ann".
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseClientFrame } from '../src/validate.js'

const names = suite('user names')

const user = (name: string): string | null => {
  const r = parseClientFrame(JSON.stringify({ t: 'hello', user: name }))
  return r.ok && r.value.t === 'hello' ? r.value.user : null
}

names('NFKC: full-width and compatibility forms become the plain name', () => {
  assert.is(user('ａｎｎ'), 'ann')
  assert.is(user('ann'), 'ann')
  assert.is(user('Zoe\u0308'), 'Zoë', 'a combining diaeresis is composed')
  assert.is(user('ℓisa'), 'lisa')
})

names('a name mixing scripts is refused (the Cyrillic "а" in "аnn")', () => {
  assert.is(user('\u0430nn'), null)
  assert.is(user('p\u0430ypal'), null)
  assert.is(user('\u0396eus'), null, 'Greek capital zeta + Latin')
})

names('a name written only with Cyrillic or Greek letters that look Latin is refused', () => {
  assert.is(user('\u0430\u0441\u0435'), null, 'Cyrillic "асе" looks like "ace"')
  assert.is(user('\u0391\u0392\u039F'), null, 'Greek "ΑΒΟ" looks like "ABO"')
  assert.is(user('\u0441\u043E\u0440\u0443'), null, 'Cyrillic "сору" looks like "copy"')
})

names('real names in one script pass, also with digits and _ . -', () => {
  for (const n of ['Роман', 'Ελένη', '山田', 'やまだ太郎', '김민준', 'José_2', 'ann.b-1', 'Zoë_1']) assert.is(user(n), n.normalize('NFKC'), n)
})

names.run()
