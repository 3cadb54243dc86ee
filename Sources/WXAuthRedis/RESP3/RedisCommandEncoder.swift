import NIOCore

/// Commands go to Redis as RESP arrays of blob strings (`*N\r\n` then `$len\r\nbytes\r\n` per argument), the one
/// request shape every Redis version accepts.
public enum RedisCommandEncoder {
    public static func write(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        writeHeader(count: command.arguments.count, into: &buffer)
        for argument in command.arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(argument.readableBytes, into: &buffer)
            buffer.writeImmutableBuffer(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// `*count\r\n`
    public static func writeHeader(count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(count, into: &buffer)
    }

    /// One argument written straight from bytes, after `writeHeader`: for hot loops that do not build a command.
    @inlinable
    public static func writeArgument(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        writeDecimal(bytes.count, into: &buffer)
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    @inlinable
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(value))
        } else {
            buffer.writeString(String(value))
        }
        buffer.writeStaticString("\r\n")
    }
}
