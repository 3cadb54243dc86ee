<?php

declare(strict_types=1);

namespace WxAuth;

/**
 * One greeted (and, when required, authenticated) blocking connection. Requests are written at once and answered
 * in any order; wait() reads until its own answer arrives and keeps the others for their callers.
 *
 * @internal used by Client
 */
final class Connection
{
    /** @var resource */
    private $sock;
    private string $buffer = '';
    /** @var array<int, Op> request id => opcode, in flight */
    private array $pending = [];
    /** @var array<int, Frame> answers that arrived for requests nobody waits for yet */
    private array $done = [];
    private int $nextId = 1;
    private ?WxAuthException $failure = null;
    /** No new requests (SHUTTING_DOWN, fail-over); closed once nothing is pending. */
    public bool $retired = false;
    public Hello $hello;
    public int $permissions = 2047;

    private function __construct(public readonly string $address, public readonly int $index)
    {
    }

    /** Connects, reads HELLO (or the error frame sent in its place) and answers it with AUTH when required. */
    public static function open(string $address, int $index, float $connectTimeout, ?string $callerId,
                                #[\SensitiveParameter] ?string $callerSecret): self
    {
        $c = new self($address, $index);
        $deadline = microtime(true) + $connectTimeout;
        $ctx = stream_context_create(['socket' => ['tcp_nodelay' => true]]);
        $sock = @stream_socket_client("tcp://$address", $errno, $errstr, $connectTimeout, STREAM_CLIENT_CONNECT, $ctx);
        if ($sock === false) {
            throw new ConnectionLostException("cannot connect to $address: $errstr ($errno)");
        }
        $c->sock = $sock;
        try {
            $hello = $c->readSync($deadline, 'HELLO');
            if ($hello->requestId !== 0) {
                throw new ProtocolException("first frame from $address is not HELLO");
            }
            try {
                $c->hello = Codec::decodeOk(Op::HELLO, $hello->body);
            } catch (DecodeException $e) {
                throw new ProtocolException("undecodable HELLO from $address: {$e->getMessage()}", 0, $e);
            }
            if ($c->hello->authRequired()) {
                if ($callerId === null || $callerSecret === null) {
                    throw ServerException::create(Status::NOT_AUTHORIZED->value,
                        'server requires authentication; configure callerId and callerSecret (client side)');
                }
                $proof = Codec::authProof($callerSecret, $c->hello->nonce);
                $c->write(Codec::encodeRequest(1, Request::auth($callerId, $proof)));
                while (true) {
                    $f = $c->readSync($deadline, 'AUTH answer');
                    if ($f->requestId !== 1) {
                        continue;
                    }
                    if ($f->kind !== Status::OK->value) {
                        throw $c->decodeError($f);
                    }
                    try {
                        $c->permissions = Codec::decodeOk(Op::AUTH, $f->body);
                    } catch (DecodeException $e) {
                        throw new ProtocolException("undecodable AUTH answer from $address", 0, $e);
                    }
                    break;
                }
            }
        } catch (\Throwable $e) {
            @fclose($sock);
            throw $e;
        }
        return $c;
    }

    private function decodeError(Frame $f): ServerException
    {
        try {
            return ServerException::decode($f->kind, $f->requestId, $f->body);
        } catch (DecodeException $e) {
            throw new ProtocolException('undecodable ' . Status::nameOf($f->kind) . " body from {$this->address}", 0, $e);
        }
    }

    /** One frame during the handshake; an error frame with request id 0 is the server refusing us. */
    private function readSync(float $deadline, string $what): Frame
    {
        while (true) {
            try {
                $f = Codec::takeFrame($this->buffer, Codec::MAX_INCOMING_FRAME);
            } catch (DecodeException $e) {
                throw new ProtocolException("undecodable $what from {$this->address}: {$e->getMessage()}", 0, $e);
            }
            if ($f !== null) {
                if ($f->version !== Codec::VERSION) {
                    throw new ProtocolException("$what with protocol version {$f->version}");
                }
                if ($f->requestId === 0 && $f->kind !== Status::OK->value) {
                    throw $this->decodeError($f);
                }
                return $f;
            }
            $this->fill($deadline, "no $what from {$this->address} in time");
        }
    }

    /** Reads what is there (waiting until $deadline); EOF and errors are ConnectionLostException. */
    private function fill(float $deadline, string $timeoutMessage): void
    {
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            throw new TimeoutException($timeoutMessage);
        }
        $r = [$this->sock];
        $w = $e = null;
        $n = @stream_select($r, $w, $e, (int) $left, (int) (($left - (int) $left) * 1e6));
        if ($n === false) {
            throw new ConnectionLostException("select on {$this->address} failed");
        }
        if ($n === 0) {
            throw new TimeoutException($timeoutMessage);
        }
        $data = @fread($this->sock, 65536);
        if ($data === false || ($data === '' && feof($this->sock))) {
            throw new ConnectionLostException("connection closed by {$this->address}");
        }
        $this->buffer .= $data;
    }

    private function write(string $data): void
    {
        while ($data !== '') {
            $n = @fwrite($this->sock, $data);
            if ($n === false || $n === 0) {
                throw new ConnectionLostException("send to {$this->address} failed");
            }
            $data = substr($data, $n);
        }
    }

    /**
     * Notices, without blocking, that the server closed this connection while nothing was in flight (idle timeout,
     * shutdown), so that the next request goes to a new connection instead of failing after it was sent.
     */
    public function poll(): void
    {
        if ($this->failure !== null || $this->pending !== []) {
            return;
        }
        $r = [$this->sock];
        $w = $e = null;
        if (@stream_select($r, $w, $e, 0, 0) !== 1) {
            return;
        }
        $data = @fread($this->sock, 65536);
        if ($data === false || ($data === '' && feof($this->sock))) {
            $this->fail(new ConnectionLostException("connection closed by {$this->address}"));
            return;
        }
        $this->buffer .= $data;
        try {
            $this->dispatch();
        } catch (WxAuthException $e) {
            $this->fail($e);
        }
    }

    public function usable(): bool
    {
        return $this->failure === null && !$this->retired;
    }

    public function pendingCount(): int
    {
        return count($this->pending);
    }

    /**
     * Writes the requests in one write under fresh request ids (never 0, never one in flight).
     * @param list<array{0: Op, 1: string}> $requests opcode and encoded body
     * @return list<int> request ids; throws NotSent when nothing was written
     */
    public function send(array $requests): array
    {
        if ($this->failure !== null || $this->retired) {
            throw new NotSentException('connection to ' . $this->address . ' is ' . ($this->failure ? 'dead' : 'retired'));
        }
        $ids = [];
        $out = '';
        foreach ($requests as [$op, $body]) {
            if (Codec::HEADER_SIZE + strlen($body) > $this->hello->maxFrame) {
                throw new FieldLimitException('request', "frame exceeds the server's max_frame");
            }
        }
        foreach ($requests as [$op, $body]) {
            do {
                $id = $this->nextId;
                $this->nextId = $this->nextId >= Codec::MAX_REQUEST_ID ? 1 : $this->nextId + 1;
            } while (isset($this->pending[$id]) || isset($this->done[$id]));
            $this->pending[$id] = $op;
            $ids[] = $id;
            $out .= Codec::encodeFrame(Codec::VERSION, $op->value, $id, $body);
        }
        try {
            $this->write($out);
        } catch (ConnectionLostException $e) {
            $this->fail($e);
        }
        return $ids;
    }

    /** The answer frame of request $id, or the connection's failure, or TimeoutException at $deadline. */
    public function wait(int $id, float $deadline): Frame
    {
        while (true) {
            if (isset($this->done[$id])) {
                $f = $this->done[$id];
                unset($this->done[$id]);
                $this->closeIfIdle();
                return $f;
            }
            if ($this->failure !== null) {
                unset($this->pending[$id]);
                throw $this->failure;
            }
            if (!isset($this->pending[$id])) {
                throw new \LogicException("request $id is not in flight");
            }
            try {
                $this->fill($deadline, "no answer to request $id in time");
                $this->dispatch();
            } catch (TimeoutException $e) {
                unset($this->pending[$id]); // a late answer is dropped
                $this->closeIfIdle();
                throw $e;
            } catch (WxAuthException $e) {
                $this->fail($e);
            }
        }
    }

    /** Moves every complete frame in the buffer to its request. */
    private function dispatch(): void
    {
        while (true) {
            try {
                $f = Codec::takeFrame($this->buffer, Codec::MAX_INCOMING_FRAME);
            } catch (DecodeException $e) {
                throw new ProtocolException("undecodable frame from {$this->address}: {$e->getMessage()}", 0, $e);
            }
            if ($f === null) {
                return;
            }
            if ($f->version !== Codec::VERSION) {
                throw new ProtocolException("response with protocol version {$f->version} from {$this->address}");
            }
            if ($f->requestId === 0) {
                if ($f->kind === Status::OK->value) {
                    continue; // nothing unsolicited is defined besides HELLO
                }
                // An error about the connection itself (framing, capacity, shutdown): the server closes it.
                $e = $this->decodeError($f);
                throw new ConnectionLostException("{$this->address} ended the connection: {$e->getMessage()}", 0, $e);
            }
            if (isset($this->pending[$f->requestId])) {
                unset($this->pending[$f->requestId]);
                $this->done[$f->requestId] = $f;
            }
        }
    }

    public function fail(WxAuthException $e): void
    {
        if ($this->failure === null) {
            $this->failure = $e;
            @fclose($this->sock);
        }
    }

    public function retire(): void
    {
        $this->retired = true;
        $this->closeIfIdle();
    }

    private function closeIfIdle(): void
    {
        if ($this->retired && $this->pending === [] && $this->done === [] && $this->failure === null) {
            $this->fail(new ConnectionLostException("connection to {$this->address} retired"));
        }
    }

    public function close(): void
    {
        $this->fail(new ConnectionLostException('connection closed by the client'));
    }
}

/** Nothing reached the socket: the connection had died or been retired. */
final class NotSentException extends ConnectionLostException
{
}
