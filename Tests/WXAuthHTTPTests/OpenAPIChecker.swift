import Foundation

/// Checks real answers against protocol/openapi.json: the status is one the operation declares, every required
/// header of that response is there and matches its schema, no undeclared `X-WXAuth-*` header appears, and the
/// body is empty or valid JSON for the declared schema. A small JSON Schema subset (type, required, properties,
/// additionalProperties: false, enum, minLength, maxLength, minimum, pattern, $ref), which is all the spec uses.
struct OpenAPIChecker {
    let spec: [String: Any]

    static func load() throws -> OpenAPIChecker {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("protocol/openapi.json")
        let data = try Data(contentsOf: url)
        guard let spec = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EdgeTestFailure("openapi.json is not an object")
        }
        return OpenAPIChecker(spec: spec)
    }

    /// The problems of `answer` to `method path`; empty when it conforms.
    func problems(_ method: String, _ path: String, _ answer: HTTPAnswer) -> [String] {
        guard let operation = ((spec["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()] as? [String: Any] else {
            return ["\(method) \(path) is not in the spec"]
        }
        guard let declared = (operation["responses"] as? [String: Any])?[String(answer.status)] as? [String: Any] else {
            return ["\(method) \(path): status \(answer.status) is not declared"]
        }
        let response = resolve(declared)
        var problems: [String] = []
        let headers = (response["headers"] as? [String: Any] ?? [:]).mapValues { resolve($0 as? [String: Any] ?? [:]) }
        for (name, header) in headers {
            let value = answer.header(name)
            if value == nil, header["required"] as? Bool == true {
                problems.append("\(path) \(answer.status): header \(name) is missing")
            }
            if let value, let schema = header["schema"] as? [String: Any] {
                problems += validate(value, schema, at: "\(path) \(answer.status) header \(name)")
            }
        }
        let declaredNames = Set(headers.keys.map { $0.lowercased() })
        for header in answer.headers where header.name.lowercased().hasPrefix("x-wxauth-") && !declaredNames.contains(header.name.lowercased()) {
            problems.append("\(path) \(answer.status): header \(header.name) is not declared")
        }
        if let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any] {
            if !(answer.header("Content-Type") ?? "").hasPrefix("application/json") {
                problems.append("\(path) \(answer.status): Content-Type is \(answer.header("Content-Type") ?? "absent")")
            }
            guard let body = try? JSONSerialization.jsonObject(with: Data(answer.body)) else {
                return problems + ["\(path) \(answer.status): body is not JSON: \(answer.text)"]
            }
            problems += validate(body, schema, at: "\(path) \(answer.status) body")
        } else if !answer.body.isEmpty {
            problems.append("\(path) \(answer.status): no body is declared, got \(answer.body.count) bytes")
        }
        return problems
    }

    private func resolve(_ object: [String: Any]) -> [String: Any] {
        guard let reference = object["$ref"] as? String, reference.hasPrefix("#/") else { return object }
        var node: Any = spec
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = (node as? [String: Any])?[String(part)] else { return [:] }
            node = next
        }
        return resolve(node as? [String: Any] ?? [:])
    }

    func validate(_ value: Any, _ rawSchema: [String: Any], at path: String) -> [String] {
        let schema = resolve(rawSchema)
        var problems: [String] = []
        if let type = schema["type"] as? String, !Self.has(type: type, value) {
            return ["\(path): expected \(type), got \(value)"]
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { Self.equal($0, value) }) {
            problems.append("\(path): \(value) is not one of \(allowed)")
        }
        if let text = value as? String {
            if let minimum = schema["minLength"] as? Int, text.count < minimum { problems.append("\(path): shorter than \(minimum)") }
            if let maximum = schema["maxLength"] as? Int, text.count > maximum { problems.append("\(path): longer than \(maximum)") }
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): \"\(text)\" does not match \(pattern)")
            }
        }
        if let number = value as? NSNumber, !(value is String), let minimum = schema["minimum"] as? Int, number.intValue < minimum {
            problems.append("\(path): \(number) is below \(minimum)")
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(path): \(name) is missing")
            }
            for (name, child) in object {
                if let childSchema = properties[name] as? [String: Any] {
                    problems += validate(child, childSchema, at: "\(path).\(name)")
                } else if schema["additionalProperties"] as? Bool == false {
                    problems.append("\(path): \(name) is not declared")
                }
            }
        }
        return problems
    }

    private static func has(type: String, _ value: Any) -> Bool {
        let kind = (value as? NSNumber).map { String(cString: $0.objCType) }
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return !(value is String) && kind == "c"
        case "integer": return !(value is String) && kind != nil && kind != "c" && kind != "d" && kind != "f"
        case "number": return !(value is String) && kind != nil && kind != "c"
        default: return false
        }
    }

    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if let a = a as? String, let b = b as? String { return a == b }
        if !(a is String), !(b is String), let a = a as? NSNumber, let b = b as? NSNumber { return a == b }
        return false
    }
}
