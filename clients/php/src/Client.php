<?php

declare(strict_types=1);

namespace WxAuth;

/**
 * Blocking wxauthd client over one reused connection, with pipelining (multi()) and fail-over across addresses.
 *
 *     $wx = new Client(['10.0.0.5:7400', '10.0.0.6:7400']);
 *     $issued = $wx->login('wx1234567890abcdef', $code);
 *     $session = $wx->validate($issued->token());
 *
 * Fail-over (PROTOCOL.md "Clients and several nodes"): the client uses one address at a time and moves to the next
 * when it cannot connect (every address is tried once), when a connection is lost, when a request got no answer
 * within the timeout, or when the server answers a status about the node (Status::leavesTheNode(): SHUTTING_DOWN,
 * STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR; RATE_LIMITED and WECHAT_UNAVAILABLE do not move it). A request
 * that failed that way after it was sent is retried once, at the next address, only when it is safe to repeat
 * (Op::safeToRepeat(): PING, VALIDATE, DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY, LOGIN; a timed-out request is
 * not, its deadline is spent); the others' exceptions are thrown. Requests already sent to the node it leaves still
 * get their answers there (the connection is retired, not closed).
 */
final class Client
{
    /** @var list<string> */
    private array $addresses;
    private int $current = 0;
    private ?Connection $conn = null;
    private readonly float $timeout;
    private readonly float $connectTimeout;
    private readonly ?string $callerId;
    private readonly ?string $callerSecret;

    /**
     * @param list<string>|string $addresses "host:port", in order of preference
     * @param array{callerId?: string, callerSecret?: string, timeout?: float, connectTimeout?: float} $options
     *   callerId/callerSecret answer a HELLO that requires AUTH (the secret is used as its bytes); timeout bounds
     *   each call, fail-over retry included (seconds, default 5); connectTimeout bounds connect + HELLO + AUTH
     *   (default 5).
     */
    public function __construct(array|string $addresses, #[\SensitiveParameter] array $options = [])
    {
        $this->addresses = array_values((array) $addresses);
        if ($this->addresses === []) {
            throw new \InvalidArgumentException('no addresses');
        }
        $this->timeout = (float) ($options['timeout'] ?? 5.0);
        $this->connectTimeout = (float) ($options['connectTimeout'] ?? 5.0);
        $this->callerId = $options['callerId'] ?? null;
        $this->callerSecret = $options['callerSecret'] ?? null;
    }

    public function __destruct()
    {
        $this->close();
    }

    /** @return array<string, mixed> never the caller secret */
    public function __debugInfo(): array
    {
        return ['addresses' => $this->addresses, 'current' => $this->currentAddress(), 'callerId' => $this->callerId];
    }

    public function close(): void
    {
        $this->conn?->close();
        $this->conn = null;
    }

    public function currentAddress(): string
    {
        return $this->addresses[$this->current];
    }

    /** The greeting of the current connection (connecting if needed). */
    public function hello(): Hello
    {
        return $this->connection()->hello;
    }

    /** The permission bits AUTH granted (all bits on an open server). */
    public function permissions(): int
    {
        return $this->connection()->permissions;
    }

    private function connection(): Connection
    {
        $this->conn?->poll();
        if ($this->conn !== null && $this->conn->usable()) {
            return $this->conn;
        }
        $this->conn?->close();
        $this->conn = null;
        $n = count($this->addresses);
        $last = null;
        for ($k = 0; $k < $n; $k++) {
            $idx = ($this->current + $k) % $n;
            try {
                $this->conn = Connection::open($this->addresses[$idx], $idx, $this->connectTimeout, $this->callerId,
                    $this->callerSecret);
                $this->current = $idx;
                return $this->conn;
            } catch (ServerException $e) {
                // NOT_AUTHORIZED, RATE_LIMITED, ...: the same on every node (PROTOCOL.md rule 1): fail at once
                if (!$e->status()?->leavesTheNode()) {
                    throw $e;
                }
                $last = $e;
            } catch (WxAuthException $e) {
                $last = $e;
            }
        }
        throw $last;
    }

    private function failover(Connection $c): void
    {
        if ($this->current === $c->index) {
            $this->current = ($c->index + 1) % count($this->addresses);
        }
        $c->retire();
    }

    private static function decodeResponse(Connection $c, Op $op, Frame $f): mixed
    {
        if ($f->kind === Status::OK->value) {
            try {
                return Codec::decodeOk($op, $f->body);
            } catch (DecodeException $e) {
                throw new ProtocolException("undecodable {$op->name} response from {$c->address}: {$e->getMessage()}", 0, $e);
            }
        }
        try {
            $e = ServerException::decode($f->kind, $f->requestId, $f->body);
        } catch (DecodeException $de) {
            throw new ProtocolException('undecodable ' . Status::nameOf($f->kind) . " body from {$c->address}", 0, $de);
        }
        if ($e->status()?->leavesTheNode()) {
            $c->retire(); // finish what is pending there, send nothing new
        }
        throw $e;
    }

    /** AUTH belongs to the connection (sent on connect with callerId); it must not change caller halfway. */
    private static function refuseAuth(Request $r): void
    {
        if ($r->op === Op::AUTH) {
            throw new FieldLimitException('op', 'AUTH is sent by the client on connect (callerId/callerSecret)');
        }
    }

    /** Sends one request with fail-over; returns what Codec::decodeOk() describes, or throws. */
    public function request(Request $request): mixed
    {
        $op = $request->op;
        self::refuseAuth($request);
        $body = Codec::encodeRequestBody($request);
        $deadline = microtime(true) + $this->timeout;
        $unsent = 0;
        $repeated = false;
        while (true) {
            $c = $this->connection();
            try {
                [$id] = $c->send([[$op, $body]]);
                return self::decodeResponse($c, $op, $c->wait($id, $deadline));
            } catch (NotSentException $e) {
                if ($unsent++ < 2) {
                    continue;
                }
                throw $e;
            } catch (TimeoutException $e) {
                $this->failover($c); // no answer in time: leave the node (the spent deadline allows no repeat)
                throw $e;
            } catch (ServerException $e) {
                if (!$e->status()?->leavesTheNode()) {
                    throw $e;
                }
                $this->failover($c);
                if (!$repeated && $op->safeToRepeat() && microtime(true) < $deadline) {
                    $repeated = true;
                    continue;
                }
                throw $e;
            } catch (ConnectionLostException $e) {
                $this->failover($c);
                if (!$repeated && $op->safeToRepeat() && microtime(true) < $deadline) {
                    $repeated = true;
                    continue;
                }
                throw $e;
            }
        }
    }

    /**
     * Pipelining: writes every request in one write on one connection, then collects the answers (they may arrive
     * in any order). Returns one entry per request, in order: the value, or the WxAuthException it failed with
     * (with $throw, the first such exception is thrown after all answers arrived). No fail-over inside multi().
     *
     * @param list<Request> $requests
     * @return list<mixed>
     */
    public function multi(array $requests, bool $throw = false): array
    {
        $deadline = microtime(true) + $this->timeout;
        $results = [];
        $toSend = [];
        foreach ($requests as $i => $r) {
            try {
                self::refuseAuth($r);
                $toSend[$i] = [$r->op, Codec::encodeRequestBody($r)];
            } catch (FieldLimitException $e) {
                $results[$i] = $e;
            }
        }
        if ($toSend !== []) {
            try {
                $c = $this->connection();
                $leave = false;
                $ids = array_combine(array_keys($toSend), $c->send(array_values($toSend)));
                foreach ($ids as $i => $id) {
                    try {
                        $results[$i] = self::decodeResponse($c, $toSend[$i][0], $c->wait($id, $deadline));
                    } catch (WxAuthException $e) {
                        $results[$i] = $e;
                        if ($e instanceof ConnectionLostException || $e instanceof TimeoutException
                            || ($e instanceof ServerException && $e->status()?->leavesTheNode())) {
                            $leave = true;
                        }
                    }
                }
                if ($leave) {
                    $this->failover($c); // the batch is not repeated, but the next call goes to the next address
                }
            } catch (WxAuthException $e) {
                foreach (array_keys($toSend) as $i) {
                    $results[$i] ??= $e;
                }
            }
        }
        ksort($results);
        $results = array_values($results);
        if ($throw) {
            foreach ($results as $r) {
                if ($r instanceof WxAuthException) {
                    throw $r;
                }
            }
        }
        return $results;
    }

    /** The server's clock, Unix milliseconds. */
    public function ping(): int
    {
        return $this->request(Request::ping());
    }

    /** Exchanges a wx.login code for a session token. */
    public function login(string $appId, #[\SensitiveParameter] string $code): TokenResult
    {
        return $this->request(Request::login($appId, $code));
    }

    /** Checks a token and slides its idle deadline. */
    public function validate(#[\SensitiveParameter] string $token): Session
    {
        return $this->request(Request::validate($token));
    }

    /** Rotates a token (never repeated by fail-over; a repeat within the server's grace window is safe). */
    public function refresh(#[\SensitiveParameter] string $token): TokenResult
    {
        return $this->request(Request::refresh($token));
    }

    /** Ends one session. */
    public function revoke(#[\SensitiveParameter] string $token): void
    {
        $this->request(Request::revoke($token));
    }

    /** Ends every live session of the user; returns how many there were. */
    public function revokeUser(string $appId, string $openid): int
    {
        return $this->request(Request::revokeUser($appId, $openid));
    }

    /** The plaintext JSON of encryptedData (DecryptFailedException carries reason()). */
    public function decrypt(#[\SensitiveParameter] string $token, string $encryptedData, string $iv): string
    {
        return $this->request(Request::decrypt($token, $encryptedData, $iv));
    }

    /** Returns when signature == sha1(rawData + session_key); SignatureMismatchException otherwise. */
    public function verifySignature(#[\SensitiveParameter] string $token, string $rawData, string $signature): void
    {
        $this->request(Request::verifySignature($token, $rawData, $signature));
    }

    /** Exchanges a getPhoneNumber button code (single use: never repeated). */
    public function phoneNumber(#[\SensitiveParameter] string $token, string $code): PhoneNumberResult
    {
        return $this->request(Request::phoneNumber($token, $code));
    }

    /** Whether WeChat still considers the session's stored session_key current. */
    public function checkSessionKey(#[\SensitiveParameter] string $token): bool
    {
        return $this->request(Request::checkSessionKey($token));
    }

    /** WeChat issues a new session_key, stored in the session (never returned). */
    public function resetSessionKey(#[\SensitiveParameter] string $token): void
    {
        $this->request(Request::resetSessionKey($token));
    }
}
