//! Work over a million records split across the two cores these machines have: `f` of
//! each index, the two halves on two threads, the results in index order.

/// `f` of `0..n`, in order, the halves on two threads (a half whose thread stopped is
/// made again here, so a panic in `f` surfaces on the caller's thread).
pub fn on_two_threads<T: Send>(n: usize, f: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    let half = n / 2;
    let (mut front, back) = std::thread::scope(|s| {
        let other = s.spawn(|| (half..n).map(f).collect::<Vec<_>>());
        ((0..half).map(f).collect::<Vec<_>>(), other.join())
    });
    front.extend(back.unwrap_or_else(|_| (half..n).map(f).collect()));
    front
}
