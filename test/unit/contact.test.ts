import { describe, expect, it } from 'vitest';
import { normaliseContact, normalisePhone } from '../../functions/core/contact.ts';
import { phoneE164, Warnings } from '../../functions/targets/normalise.ts';
import { emptyGuest } from '../../functions/core/reservation.ts';

// The one place a guest's phone becomes E.164: every source calls it when it reads a reservation,
// and the targets send its result as it is (functions/targets/normalise.ts).
describe('a phone as the sources read it', () => {
  const cases: Array<[string, unknown, string | null | undefined, string | null, string | undefined]> = [
    ['a local number, in the default country', '070-123 45 67', 'SE', '+46701234567', undefined],
    ['the same digits read in another country', '030 901820', 'DE', '+4930901820', undefined],
    ['an international number whatever the default', '+44 20 7946 0958', 'SE', '+442079460958', undefined],
    ['00 instead of +', '0046 70 123 45 67', 'SE', '+46701234567', undefined],
    ['a number as a JSON number', 46701234567, null, null, 'invalid_phone'],
    ['a local number with no country to read it in', '070-123 45 67', null, null, 'invalid_phone'],
    ['too short to be a number', '12', 'SE', null, 'invalid_phone'],
    ['words', 'call me maybe', 'SE', null, 'invalid_phone'],
    ['an object', { number: '+46701234567' }, 'SE', null, 'not_a_string'],
    ['nothing', '   ', 'SE', null, undefined],
    ['a default that is not a country code', '+46 70 123 45 67', 'Sweden', '+46701234567', undefined],
  ];
  for (const [name, raw, country, value, reason] of cases) {
    it(name, () => {
      const phone = normalisePhone(raw, 'guest.phone', country);
      expect(phone.value).toBe(value);
      expect(phone.dropped?.reason).toBe(reason);
      // What a source keeps, a target sends unchanged.
      if (value !== null) expect(phoneE164({ ...emptyGuest, phone: value }, new Warnings())).toBe(value);
    });
  }

  it("reads a local number in the property's country before the guest's", () => {
    expect(normaliseContact({ email: null, phone: '070-123 45 67', country: 'DE' }, 'SE').phone).toBe('+46701234567');
    expect(normaliseContact({ email: null, phone: '030 901820', country: 'de' }, null).phone).toBe('+4930901820');
  });
});
