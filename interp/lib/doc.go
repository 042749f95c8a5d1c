// Package lib provides the modules that Python code blocks import: json, math, time, datetime,
// re, random, base64, hashlib, uuid, os and collections. Each is a frozen Starlark value that
// behaves like the CPython 3.11 module of the same name for the calls such code commonly makes,
// with the same results and, where practical, the same error messages (prefixed with the
// function name, as Starlark does). Every module is built once per process, frozen, and safe for
// concurrent use from many starlark.Threads; no call blocks, sleeps, or touches files, network
// or processes.
//
// Differences from CPython that a reader of a code block should know:
//   - Local time is UTC: naive datetimes, datetime.now(), fromtimestamp(ts), time.localtime and
//     astimezone() all treat the local zone as UTC. Only fixed-offset time zones exist
//     (timezone.utc and timezone(timedelta(...))); there is no zoneinfo and no time class
//     (datetime.combine takes a datetime for its time).
//   - str() and repr() of the values defined here are both Python's str() (Starlark has one
//     String method), so a list of datetimes prints as [2024-01-02 03:04:05].
//   - timedelta covers ±106,751,990 days (Python: ±999,999,999).
//   - re runs on Go's RE2: lookarounds, backreferences, atomic groups, possessive quantifiers
//     and conditionals are rejected with an error naming the construct; \d, \w, \s and \b
//     are ASCII-only; $ without MULTILINE matches only at the very end (Python also matches
//     before a final newline); positions are byte offsets, like Starlark string indices;
//     patterns are str only; finditer returns a list. A pattern that prefers an empty match
//     where it could also consume text (x*?, x??, (|a)) may find fewer matches in findall,
//     sub and split, and a group repeated by * reports its last non-empty capture.
//   - random is seeded from crypto/rand once per process and has no seed(): results are not
//     reproducible.
//   - hashlib constructors and update() also take str (hashed as UTF-8); Python requires bytes.
//   - os offers getenv and environ only, a read-only snapshot of the environment taken when
//     the modules are first built.
//   - collections.defaultdict and Counter are mappings, not dicts: they compare equal only to
//     their own kind (compare dict(d) with a dict). A defaultdict's factory runs on a fresh
//     thread limited to 100,000 steps, since a mapping lookup has no thread of its own; int,
//     str and bytes as factories give 0, "" and b"" as in Python. OrderedDict is dict.
//   - math.factorial, comb and perm refuse arguments above 100,000, so no call runs long.
//
// The package must not know about Kafka, the engine, manifests, or how imports are rewritten:
// it only maps a module name to a value.
package lib
