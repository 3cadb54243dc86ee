import Testing
import WXAuthProtocol
@testable import WXAuthServer

/// The connection state machine without sockets: events in, actions out.
@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    static let nonce = [UInt8](repeating: 7, count: 32)
    static let proof = [UInt8](repeating: 1, count: 32)

    static func machine(authenticationRequired: Bool = true, maxInFlight: Int = 2) -> ConnectionStateMachine {
        ConnectionStateMachine(authenticationRequired: authenticationRequired, nonce: nonce, maxInFlight: maxInFlight)
    }

    @Test func anAuthIsHandedOutForCheckingAndItsResultFedBack() {
        var state = Self.machine()
        #expect(state.isAwaitingAuthentication)
        let r1 = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        #expect(r1 == .authenticate(callerID: "gw", proof: Self.proof))
        // While the check runs nothing else is taken.
        #expect(!state.acceptsMoreRequests)
        let r2 = state.requestReceived(.success(.ping))
        #expect(r2 == .ignore)
        let r3 = state.authenticationChecked([.validate])
        #expect(r3 == .respond(.authenticated(permissions: [.validate])))
        #expect(state.state == .ready([.validate]))
        #expect(!state.isAwaitingAuthentication)
        let r4 = state.requestReceived(.success(.validate(.init(token: "t"))))
        #expect(r4 == .process(.validate(.init(token: "t"))))
        #expect(state.inFlight == 1)
    }

    @Test func aFailedAuthAnswersNotAuthorizedAndCloses() {
        var state = Self.machine()
        _ = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        guard case .respondAndClose(.error(let error)) = state.authenticationChecked(nil) else {
            Issue.record("expected respondAndClose")
            return
        }
        #expect(error.status == .notAuthorized)
        #expect(state.state == .closed)
        let r5 = state.requestReceived(.success(.ping))
        #expect(r5 == .ignore)
    }

    @Test func anythingButAuthFirstIsRefusedAndCloses() {
        var state = Self.machine()
        guard case .respondAndClose(.error(let error)) = state.requestReceived(.success(.ping)) else {
            Issue.record("expected respondAndClose")
            return
        }
        #expect(error.status == .notAuthorized)
        #expect(state.state == .closed)
    }

    @Test func aSecondAuthIsRefusedAndChangesNothing() {
        var state = Self.machine()
        _ = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        _ = state.authenticationChecked([.validate])
        // Another caller's AUTH must not switch the connection to that caller's permissions.
        guard case .respond(.error(let error)) = state.requestReceived(.success(.auth(.init(callerID: "admin", proof: Self.proof)))) else {
            Issue.record("expected respond")
            return
        }
        #expect(error.status == .notAuthorized)
        #expect(state.state == .ready([.validate]))
        #expect(state.acceptsMoreRequests)
    }

    @Test func anOpenServerAnswersTheFirstAuthAndRefusesASecond() {
        var state = Self.machine(authenticationRequired: false)
        let first = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        #expect(first == .authenticate(callerID: "gw", proof: Self.proof))
        #expect(state.authenticationChecked(.all) == .respond(.authenticated(permissions: .all)))
        guard case .respond(.error(let error)) = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof)))) else {
            Issue.record("expected respond")
            return
        }
        #expect(error.status == .notAuthorized)
        #expect(state.state == .ready(.all))
    }

    @Test func beforeAuthAnUndecodableFrameGetsItsOwnStatusAndCloses() {
        let failures: [(RequestDecodingError, Status)] = [
            (.malformed("proof: 31 bytes, not 32"), .malformedRequest),
            (.unknownOpcode(0x7F), .unknownOpcode),
            (.unsupportedVersion(9), .unsupportedVersion),
        ]
        for (failure, status) in failures {
            var state = Self.machine()
            guard case .respondAndClose(.error(let error)) = state.requestReceived(.failure(failure)) else {
                Issue.record("expected respondAndClose for \(failure)")
                continue
            }
            #expect(error.status == status)
            #expect(state.state == .closed)
        }
    }

    @Test func requestIDZeroIsRefusedAndClosesInEveryLiveState() {
        let waiting = Self.machine()
        let ready = Self.machine(authenticationRequired: false)
        var draining = Self.machine(authenticationRequired: false)
        _ = draining.requestReceived(.success(.ping))
        _ = draining.drain()
        for machine in [waiting, ready, draining] {
            var machine = machine
            guard case .respondAndClose(.error(let error)) = machine.requestReceived(.failure(.reservedRequestID)) else {
                Issue.record("expected respondAndClose")
                continue
            }
            #expect(error.status == .malformedRequest)
            #expect(machine.state == .closed)
        }
    }

    @Test func theAuthenticationDeadlineClosesOnlyUnauthenticatedConnections() {
        var waiting = Self.machine()
        let r8 = waiting.authenticationDeadlinePassed()
        #expect(r8)
        #expect(waiting.state == .closed)

        var authenticated = Self.machine()
        _ = authenticated.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        _ = authenticated.authenticationChecked(.all)
        let r9 = authenticated.authenticationDeadlinePassed()
        #expect(!r9)
        #expect(authenticated.state == .ready(.all))

        var open = Self.machine(authenticationRequired: false)
        let r10 = open.authenticationDeadlinePassed()
        #expect(!r10)
    }

    @Test func requestsOutsideThePermissionsAreRefusedAndTheConnectionStays() {
        var state = Self.machine()
        _ = state.requestReceived(.success(.auth(.init(callerID: "gw", proof: Self.proof))))
        _ = state.authenticationChecked([.validate])
        guard case .respond(.error(let error)) = state.requestReceived(.success(.revoke(.init(token: "t")))) else {
            Issue.record("expected respond")
            return
        }
        #expect(error.status == .notAuthorized)
        #expect(state.state == .ready([.validate]))
        #expect(state.inFlight == 0)
    }

    @Test func undecodableRequestsAreAnsweredAndNotCounted() {
        var state = Self.machine(authenticationRequired: false)
        let action = state.requestReceived(.failure(.unknownOpcode(0x7F)))
        guard case .respond(.error) = action else {
            Issue.record("expected respond, got \(action)")
            return
        }
        #expect(state.inFlight == 0)
    }

    @Test func theInFlightCapStopsTakingRequestsUntilOneFinishes() {
        var state = Self.machine(authenticationRequired: false, maxInFlight: 2)
        #expect(state.acceptsMoreRequests)
        let r11 = state.requestReceived(.success(.ping))
        #expect(r11 == .process(.ping))
        let r12 = state.requestReceived(.success(.ping))
        #expect(r12 == .process(.ping))
        #expect(!state.acceptsMoreRequests)
        let r13 = state.requestFinished()
        #expect(!r13)
        #expect(state.acceptsMoreRequests)
    }

    @Test func drainingAnswersShuttingDownAndClosesWhenNothingIsInFlight() {
        var state = Self.machine(authenticationRequired: false)
        let r14 = state.requestReceived(.success(.ping))
        #expect(r14 == .process(.ping))
        let r15 = state.drain()
        #expect(!r15)
        guard case .respond(.error(let error)) = state.requestReceived(.success(.ping)) else {
            Issue.record("expected respond")
            return
        }
        #expect(error.status == .shuttingDown)
        let r16 = state.requestFinished()
        #expect(r16)

        var idle = Self.machine(authenticationRequired: false)
        let r17 = idle.drain()
        #expect(r17)
    }

    @Test func drainingAnswersShuttingDownBeforeLookingAtVersionOpcodeOrBody() {
        var state = Self.machine(authenticationRequired: false)
        _ = state.requestReceived(.success(.ping))
        _ = state.drain()
        for failure: RequestDecodingError in [.unsupportedVersion(9), .unknownOpcode(0x7F), .malformed("x")] {
            guard case .respond(.error(let error)) = state.requestReceived(.failure(failure)) else {
                Issue.record("expected respond for \(failure)")
                continue
            }
            #expect(error.status == .shuttingDown)
        }
    }

    @Test func aClosedConnectionTakesNothing() {
        var state = Self.machine(authenticationRequired: false)
        state.closed()
        #expect(!state.acceptsMoreRequests)
        let r18 = state.requestReceived(.success(.ping))
        #expect(r18 == .ignore)
        let r19 = state.drain()
        #expect(!r19)
    }
}
