// SPDX-License-Identifier: MIT
// The table of awkward field names (issue 11 §1) that every layer must carry exactly as written.

/** Names that must be accepted, each distinct from every other, even where an encoding could merge them. */
export const awkwardNames: readonly string[] = [
  '온도',
  '습도 (%)',
  'Temperature (°C)',
  '🌡️',
  'a.b',
  'a b',
  'a_b',
  'a-b',
  '9lives',
  '_x41',
  '_x',
  'A',
  'x/y',
  'ratio 50%',
  '"quoted"',
  'back\\slash',
  'ü'.repeat(128),
];

/** Names that must be refused with a 400. */
export const refusedNames: readonly string[] = ['', 'n'.repeat(129), 'line\nbreak', 'nul\u0000', 'tab\there'];
