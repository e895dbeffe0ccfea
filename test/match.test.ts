import test from 'ava';
import fc from 'fast-check';
import { compileMatch, globsMayTake, globToRegExp, matchOption, templateGlob } from '../core/pipeline/match.js';

test('* stays within a segment, ** crosses, ? is one character, ! excludes', (t) => {
  const m = compileMatch(['live/*', 'vip/**', 'cam?/x']);
  t.true(m('live/a'));
  t.false(m('live/a/b'));
  t.true(m('vip/a/b'));
  t.true(m('cam1/x'));
  t.false(m('cam12/x'));
  t.false(m('other/a'));
  const except = compileMatch(['!live/*_480p']);
  t.true(except('live/cam'));
  t.false(except('live/cam_480p'));
  t.true(compileMatch(undefined)('any/thing'));
});

test('the match option takes a glob or a list and refuses other characters', (t) => {
  t.deepEqual(matchOption.parse('live/*'), ['live/*']);
  t.deepEqual(matchOption.parse(['a/*', '!a/b']), ['a/*', '!a/b']);
  t.false(matchOption.safeParse('live/[ab]').success);
  t.false(matchOption.safeParse([]).success);
});

test('a literal glob matches exactly itself, whatever regex characters it holds', (t) => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}\/[A-Za-z0-9_.-]{1,12}$/), (key) => {
      t.true(globToRegExp(key).test(key));
      t.false(globToRegExp(key).test(`${key}x`));
    }),
    { numRuns: 500 },
  );
});

test('globsMayTake: what a rendition template writes, against what a pipeline reads', (t) => {
  const out = templateGlob('{app}/{stream}_480p', 'live/*');
  t.is(out, 'live/*_480p');
  t.true(globsMayTake(['live/*'], out), 'live/* would read live/cam_480p');
  t.false(globsMayTake(['live/*', '!live/*_480p'], out), 'unless it excludes them');
  t.false(globsMayTake(['vip/*'], out));
  t.false(globsMayTake(['live/cam'], out));
  t.true(globsMayTake(undefined, 'x/y'), 'no match takes everything');
  t.is(templateGlob('{key}', '**'), '*/*');
});

test('globsMayTake agrees with matching on concrete keys (never says no when a key is taken)', (t) => {
  const segment = fc.constantFrom('live', 'vip', 'cam', 'cam_480p', '*', '*_480p', 'c?m');
  const glob = fc.tuple(segment, segment).map(([a, b]) => `${a}/${b}`);
  const literal = fc.tuple(fc.constantFrom('live', 'vip', 'cam'), fc.constantFrom('cam', 'cam_480p', 'cim')).map(([a, b]) => `${a}/${b}`);
  fc.assert(
    fc.property(fc.array(glob, { minLength: 1, maxLength: 3 }), literal, (globs, key) => {
      if (compileMatch(globs)(key)) t.true(globsMayTake(globs, key));
    }),
    { numRuns: 1000 },
  );
});
