import DecographCLI

#if canImport(Glibc)
import Glibc
#endif

exit(DecographCLI.main(Array(CommandLine.arguments.dropFirst())))
