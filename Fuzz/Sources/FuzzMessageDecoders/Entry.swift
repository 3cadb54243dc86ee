import FuzzDriver

@_cdecl("FuzzMessageDecoders_main")
func fuzzEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzMessageDecoders(data, size) }
}
