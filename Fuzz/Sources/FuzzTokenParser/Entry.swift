import FuzzDriver

@_cdecl("FuzzTokenParser_main")
func fuzzEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzTokenParser(data, size) }
}
