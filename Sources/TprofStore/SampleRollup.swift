import TprofCapture

/// The key of `sample_counts`: every column reports group by, without time.
struct SampleGroup: Equatable {
    var pid: Int32
    var tid: Int32
    var cpu: UInt32
    var event: UInt16
    var mode: UInt8
    var pc: UInt64
    var stack: Int64

    /// A cheap 64-bit hash of every field (the rollup's tables are open-addressing, not Swift's `Hasher`).
    @inline(__always)
    var hash: UInt64 {
        let ids = UInt64(UInt32(bitPattern: pid)) | UInt64(UInt32(bitPattern: tid)) << 32
        let small = UInt64(cpu) | UInt64(event) << 32 | UInt64(mode) << 48
        let h = (ids &* 0x9e37_79b9_7f4a_7c15) ^ (pc &* 0xc2b2_ae3d_27d4_eb4f)
            ^ (UInt64(bitPattern: stack) &* 0x1656_67b1_9e37_79f9) ^ (small &* 0x27d4_eb2f_1656_67c5)
        return murmurFinalize(h)
    }
}

/// The `sample_counts` rows of one batch, summed in memory so each group is upserted once a batch. Lives on the
/// writer thread and is reused from batch to batch: an open-addressing table of entry indexes over an entry array.
final class SampleRollup {
    struct Entry {
        var group: SampleGroup
        var samples: Int64
        var period: Int64
    }

    /// The groups in the order first seen, `count` of them.
    private(set) var entries: UnsafeMutablePointer<Entry>
    private(set) var count = 0
    private var capacity: Int
    /// Index + 1 into `entries` (0: empty); a power of two at least twice `capacity`.
    private var slots: UnsafeMutablePointer<Int32>
    private var slotMask: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
        slotMask = capacity * 2 - 1
        slots = .allocate(capacity: slotMask + 1)
        slots.initialize(repeating: 0, count: slotMask + 1)
    }

    deinit {
        entries.deallocate()
        slots.deallocate()
    }

    /// Adds one sample of `group` with `period`.
    @inline(__always)
    func add(_ group: SampleGroup, period: Int64) {
        let mask = slotMask
        let slots = self.slots
        let entries = self.entries
        var slot = Int(truncatingIfNeeded: group.hash) & mask
        while true {
            let index = Int(slots[slot])
            if index == 0 { break }
            if entries[index - 1].group == group {
                entries[index - 1].samples += 1
                entries[index - 1].period &+= period
                return
            }
            slot = (slot &+ 1) & mask
        }
        (entries + count).initialize(to: Entry(group: group, samples: 1, period: period))
        count += 1
        slots[slot] = Int32(count)
        if count == capacity { grow() }
    }

    /// Forgets every group, keeping the storage.
    func removeAll() {
        guard count > 0 else { return }
        slots.update(repeating: 0, count: slotMask + 1)
        count = 0
    }

    @inline(never)
    private func grow() {
        precondition(capacity < Int(Int32.max) / 4, "too many sample groups in one batch")
        let newCapacity = capacity * 2
        let grown = UnsafeMutablePointer<Entry>.allocate(capacity: newCapacity)
        grown.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = grown
        capacity = newCapacity
        slots.deallocate()
        slotMask = newCapacity * 2 - 1
        slots = .allocate(capacity: slotMask + 1)
        slots.initialize(repeating: 0, count: slotMask + 1)
        for index in 0..<count {
            var slot = Int(truncatingIfNeeded: entries[index].group.hash) & slotMask
            while slots[slot] != 0 { slot = (slot &+ 1) & slotMask }
            slots[slot] = Int32(index + 1)
        }
    }
}
