import FuzzDriver

@_cdecl("FuzzRESP3Decoder_main")
func fuzzEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzRESP3Decoder(data, size) }
}
