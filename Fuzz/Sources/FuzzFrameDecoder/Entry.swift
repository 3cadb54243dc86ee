import FuzzDriver

@_cdecl("FuzzFrameDecoder_main")
func fuzzEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzFrameDecoder(data, size) }
}
