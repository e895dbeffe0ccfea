import test from 'ava';
import { findMalformedReference, interpolate } from '../core/pipeline/interpolate.js';

test('a set variable is substituted', (t) => {
  t.deepEqual(interpolate('port ${PORT}', { PORT: '9000' }), { value: 'port 9000', missing: [] });
});

test('the default applies when the variable is unset or empty', (t) => {
  t.is(interpolate('${PORT:-8080}', {}).value, '8080');
  t.is(interpolate('${PORT:-8080}', { PORT: '' }).value, '8080');
  t.is(interpolate('${PORT:-8080}', { PORT: '1' }).value, '1');
  t.is(interpolate('${X:-}', {}).value, '');
});

test('an unset variable without a default is reported as missing', (t) => {
  t.deepEqual(interpolate('a${NOPE}b${ALSO}', {}).missing, ['NOPE', 'ALSO']);
});

test('$${ escapes a literal ${', (t) => {
  t.is(interpolate('cost $${HOME} and ${HOME}', { HOME: '/root' }).value, 'cost ${HOME} and /root');
});

test('malformed references are found, valid ones are not', (t) => {
  t.is(findMalformedReference('${1BAD}'), '${1BAD}');
  t.truthy(findMalformedReference('open ${UNCLOSED'));
  t.is(findMalformedReference('${GOOD} $${literal} ${A:-b}'), undefined);
});
