extension Array {
    /// In an array sorted by `key`, the index of the last element whose key is at or below `value`.
    func lastIndex(atOrBelow value: UInt64, key: (Element) -> UInt64) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if key(self[middle]) <= value { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}
