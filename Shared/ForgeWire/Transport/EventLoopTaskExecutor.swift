import NIOCore

/// Runs Swift tasks on a NIO event loop, so a handler started by a connection runs on that
/// connection's thread and its reply is written without a thread hop. A caller making many
/// client calls can prefer the client's loop the same way (`WireClient.taskExecutor`).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
