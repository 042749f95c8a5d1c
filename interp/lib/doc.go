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
//     (timezone.utc and timezone(timedelta(...))); there is no zoneinfo.
//   - str() and repr() of the values defined here are both Python's str() (Starlark has one
//     String method), so a list of datetimes prints as [2024-01-02 03:04:05].
//   - re uses Go's RE2 engine: lookarounds, backreferences, atomic groups, possessive
//     quantifiers and conditionals are rejected with an error naming the construct; \d, \w,
//     \s and \b are ASCII-only; $ without MULTILINE matches only at the very end; positions
//     are byte offsets, like Starlark string indices; str patterns only.
//   - random is seeded from crypto/rand once per process and cannot be seeded: results are
//     not reproducible.
//   - hashlib constructors and update() also take str (hashed as UTF-8); Python requires bytes.
//   - os offers getenv and environ only, a snapshot of the environment taken when the modules
//     are first built.
//   - collections.defaultdict calls its factory on a fresh thread limited to 100,000 steps,
//     and compares equal only to another defaultdict (use dict(d) to compare with a dict).
//   - timedelta covers ±106,751,991 days (Python: ±999,999,999).
//
// The package must not know about Kafka, the engine, manifests, or how imports are rewritten:
// it only maps a module name to a value.
package lib
