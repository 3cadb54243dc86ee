package wxauth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// result is what the reader goroutine hands a waiting request.
type result struct {
	f   Frame
	err error
}

// conn is one greeted (and, when required, authenticated) connection. Any number of goroutines may send on it;
// one reader goroutine matches responses to requests by request id (the server may answer out of order).
type conn struct {
	nc          net.Conn
	br          *bufio.Reader
	addr        string
	addrIdx     int
	hello       Hello
	permissions uint32

	wmu sync.Mutex // one frame written at a time

	mu      sync.Mutex
	pending map[uint32]chan result
	nextID  uint32
	err     error // set once the connection is dead
	retired bool  // no new requests (SHUTTING_DOWN, fail-over); closed once nothing is pending
	done    chan struct{}
}

func connLost(addr, msg string, cause error) *ConnError {
	return &ConnError{Addr: addr, Msg: msg, Kind: ErrConnectionLost, Err: cause}
}

func protocolErr(addr, msg string, cause error) *ConnError {
	return &ConnError{Addr: addr, Msg: msg, Kind: ErrProtocol, Err: cause}
}

// readErr turns a read failure into the connection's error: bad bytes are a protocol error, the rest a lost one.
func readErr(addr string, err error) *ConnError {
	var de *DecodeError
	if errors.As(err, &de) {
		return protocolErr(addr, "undecodable frame from server", err)
	}
	if err == io.EOF {
		return connLost(addr, "connection closed by server", nil)
	}
	return connLost(addr, "receive failed", err)
}

// dialConn connects, reads HELLO (or the error frame sent in its place) and answers it with AUTH when required.
func dialConn(ctx context.Context, addr string, idx int, o *Options) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, connLost(addr, "cannot connect", err)
	}
	deadline, _ := dctx.Deadline()
	_ = nc.SetDeadline(deadline)
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 32<<10), addr: addr, addrIdx: idx,
		pending: make(map[uint32]chan result), nextID: 1, done: make(chan struct{})}
	if err := c.handshake(o); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

// readSync reads one frame during the handshake; error frames with request id 0 are the server refusing us.
func (c *conn) readSync(what string) (Frame, error) {
	f, err := ReadFrame(c.br, MaxIncomingFrame)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return f, connLost(c.addr, "no "+what+" in time", err)
		}
		return f, readErr(c.addr, err)
	}
	if f.Version != Version {
		return f, protocolErr(c.addr, what+" with an unknown protocol version", nil)
	}
	if f.RequestID == 0 && f.Kind != uint8(StatusOK) {
		e, derr := DecodeErrorBody(Status(f.Kind), 0, f.Body)
		if derr != nil {
			return f, protocolErr(c.addr, "undecodable error frame", derr)
		}
		return f, e
	}
	return f, nil
}

func (c *conn) handshake(o *Options) error {
	f, err := c.readSync("HELLO")
	if err != nil {
		return err
	}
	if f.RequestID != 0 {
		return protocolErr(c.addr, "first frame is not HELLO", nil)
	}
	v, err := DecodeOK(OpHello, f.Body)
	if err != nil {
		return protocolErr(c.addr, "undecodable HELLO", err)
	}
	c.hello = v.(Hello)
	c.permissions = PermAll
	if !c.hello.AuthRequired() {
		return nil
	}
	if o.CallerID == "" {
		return &Error{Status: StatusNotAuthorized,
			Message: "server requires authentication; configure CallerID and CallerSecret (client side)"}
	}
	frame, err := EncodeRequest(1, Auth{CallerID: o.CallerID, Proof: AuthProof([]byte(o.CallerSecret), c.hello.Nonce)})
	if err != nil {
		return err
	}
	if _, err := c.nc.Write(frame); err != nil {
		return connLost(c.addr, "send failed", err)
	}
	for {
		f, err := c.readSync("AUTH answer")
		if err != nil {
			return err
		}
		if f.RequestID != 1 {
			continue
		}
		if f.Kind != uint8(StatusOK) {
			e, derr := DecodeErrorBody(Status(f.Kind), 1, f.Body)
			if derr != nil {
				return protocolErr(c.addr, "undecodable AUTH answer", derr)
			}
			return e
		}
		v, err := DecodeOK(OpAuth, f.Body)
		if err != nil {
			return protocolErr(c.addr, "undecodable AUTH answer", err)
		}
		c.permissions = v.(AuthResult).Permissions
		return nil
	}
}

func (c *conn) readLoop() {
	for {
		f, err := ReadFrame(c.br, MaxIncomingFrame)
		if err != nil {
			c.fail(readErr(c.addr, err))
			return
		}
		if f.Version != Version {
			c.fail(protocolErr(c.addr, "response with an unknown protocol version", nil))
			return
		}
		if f.RequestID == 0 {
			if f.Kind == uint8(StatusOK) {
				continue // nothing unsolicited is defined besides HELLO
			}
			// An error about the connection itself (framing, capacity, shutdown): the server closes it.
			e, derr := DecodeErrorBody(Status(f.Kind), 0, f.Body)
			if derr != nil {
				c.fail(protocolErr(c.addr, "undecodable error frame", derr))
			} else {
				c.fail(connLost(c.addr, "server ended the connection", e))
			}
			return
		}
		c.mu.Lock()
		ch := c.pending[f.RequestID]
		delete(c.pending, f.RequestID)
		c.closeIfIdleLocked()
		c.mu.Unlock()
		if ch != nil {
			ch <- result{f: f}
		}
	}
}

// fail kills the connection: every pending request gets err.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	pending := c.pending
	c.pending = make(map[uint32]chan result)
	c.mu.Unlock()
	c.nc.Close()
	for _, ch := range pending {
		ch <- result{err: err}
	}
}

func (c *conn) closeIfIdleLocked() {
	if c.retired && len(c.pending) == 0 && c.err == nil {
		c.err = connLost(c.addr, "connection retired", nil)
		close(c.done)
		c.nc.Close()
	}
}

func (c *conn) retire() {
	c.mu.Lock()
	c.retired = true
	c.closeIfIdleLocked()
	c.mu.Unlock()
}

func (c *conn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && !c.retired
}

func (c *conn) pendingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// register allocates request ids (never 0, never one still in flight) for n requests.
func (c *conn) register(n int) ([]uint32, []chan result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, nil, c.err
	}
	if c.retired {
		return nil, nil, connLost(c.addr, "connection retired", nil)
	}
	ids := make([]uint32, n)
	chans := make([]chan result, n)
	for i := range ids {
		for {
			id := c.nextID
			c.nextID++
			if c.nextID == 0 {
				c.nextID = 1
			}
			if _, busy := c.pending[id]; !busy && id != 0 {
				ids[i] = id
				break
			}
		}
		chans[i] = make(chan result, 1)
		c.pending[ids[i]] = chans[i]
	}
	return ids, chans, nil
}

func (c *conn) abandon(id uint32) {
	c.mu.Lock()
	delete(c.pending, id)
	c.closeIfIdleLocked()
	c.mu.Unlock()
}

// send writes requests (op + encoded body) under fresh ids. sent is false when nothing reached the socket.
func (c *conn) send(ctx context.Context, ops []Op, bodies [][]byte) (ids []uint32, chans []chan result, sent bool, err error) {
	var out []byte
	for _, body := range bodies {
		if uint64(HeaderSize+len(body)) > uint64(c.hello.MaxFrame) {
			return nil, nil, false, &FieldLimitError{Field: "request", Msg: "frame exceeds the server's max_frame"}
		}
	}
	ids, chans, err = c.register(len(ops))
	if err != nil {
		return nil, nil, false, err
	}
	for i, op := range ops {
		out = append(out, EncodeFrame(Version, uint8(op), ids[i], bodies[i])...)
	}
	c.wmu.Lock()
	deadline, _ := ctx.Deadline()
	_ = c.nc.SetWriteDeadline(deadline)
	_, werr := c.nc.Write(out)
	c.wmu.Unlock()
	if werr != nil {
		c.fail(connLost(c.addr, "send failed", werr))
	}
	return ids, chans, true, nil
}

// wait returns the response frame of one request, or the connection's error, or a TimeoutError.
func (c *conn) wait(ctx context.Context, op Op, id uint32, ch chan result) (Frame, error) {
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		c.abandon(id)
		select { // the answer may have raced the deadline
		case r := <-ch:
			return r.f, r.err
		default:
		}
		return Frame{}, &TimeoutError{Op: op, Err: ctx.Err()}
	}
}

func (c *conn) close(err error) {
	c.fail(err)
}
