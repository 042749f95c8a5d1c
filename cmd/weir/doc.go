// Command weir runs declarative stream-processing apps written in the Kaspr
// resource model. This package is the command line only: flags, wiring and
// exit codes. What a command does lives in the packages it calls.
package main
