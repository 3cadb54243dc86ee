/// Finds the keys of a configuration file that the file format does not have.
///
/// The format is the `ConfigurationFile` structs themselves: their stored property names are the JSON keys, so
/// the known keys at each level are read off the decoded value (with `Mirror`) instead of being listed twice.
enum ConfigurationKeys {
    /// Paths (`callers[0].secretenv`, `caller`) of keys in `json` that `decoded` has no property for.
    static func unknown(in json: Any, decoded: Any, path: String = "") -> [String] {
        if let object = json as? [String: Any] {
            var properties: [String: Any] = [:]
            for child in Mirror(reflecting: decoded).children {
                if let label = child.label { properties[label] = child.value }
            }
            var unknown: [String] = []
            for key in object.keys.sorted() {
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                guard let property = properties[key] else {
                    unknown.append(keyPath)
                    continue
                }
                if let value = unwrapped(property), let child = object[key] {
                    unknown += Self.unknown(in: child, decoded: value, path: keyPath)
                }
            }
            return unknown
        }
        if let array = json as? [Any], let decodedArray = decoded as? [Any] {
            return zip(array, decodedArray).enumerated().flatMap { index, pair in
                Self.unknown(in: pair.0, decoded: pair.1, path: "\(path)[\(index)]")
            }
        }
        return []
    }

    /// The wrapped value of an Optional (nil when it is nil), or the value itself.
    private static func unwrapped(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }
}
