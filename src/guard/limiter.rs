//! Requests per second per client address: a token bucket per address, on tokio's clock (so
//! tests run on a paused one).
//!
//! Memory is bounded: at most [`MAX_CLIENTS`] addresses are tracked (under 2 MiB with the
//! table's overhead). A full bucket is the same as no bucket, so when the table is full the
//! full ones are dropped (at most once per refill time, so a table of busy clients is not
//! scanned on every request); a new address that still finds no room shares one overflow
//! bucket with the others in that position. An IPv6 client counts by its /64, which is what
//! one host or home usually gets: per address, one machine could take 2^64 buckets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Most client addresses one listener tracks.
pub const MAX_CLIENTS: usize = 16_384;

/// The key a client address counts under: an IPv4 address (also when mapped into IPv6), or
/// an IPv6 address's /64.
pub fn client_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6) & !(u128::from(u64::MAX)),
        },
    }
}

/// A token bucket kept as the time its next request is due at the sustained rate (GCRA's
/// "theoretical arrival time"): integer nanoseconds, so no rounding lets a request through
/// early or refuses one on time. The bucket is full when that time has passed.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    due: Instant,
}

/// A token bucket per client address: `per_sec` requests a second on average, `burst` at once.
#[derive(Debug)]
pub struct ClientLimiter {
    /// Time between requests at the sustained rate.
    interval: Duration,
    /// How far ahead of the rate a client may be: `burst - 1` intervals.
    tolerance: Duration,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    buckets: HashMap<u128, Bucket>,
    /// Shared by new addresses that find the table full, and by requests whose address is
    /// unknown (a server that does not pass `ConnectInfo`): limited together, never not at all.
    overflow: Bucket,
    swept: Option<Instant>,
}

impl ClientLimiter {
    /// `per_sec` 0.01 to 1e6 and `burst` >= 1, checked with the configuration.
    pub fn new(per_sec: f64, burst: u32) -> Self {
        let interval =
            Duration::try_from_secs_f64(1.0 / per_sec).unwrap_or(Duration::from_secs(100));
        Self {
            interval,
            tolerance: interval.saturating_mul(burst.max(1) - 1),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                overflow: Bucket {
                    due: Instant::now(),
                },
                swept: None,
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        match self.table.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Takes one request from `client`'s bucket at `now`; `Err` holds how long until one is
    /// free.
    pub fn take(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut table = self.table();
        let Some(ip) = client else {
            return self.take_from(&mut table.overflow, now);
        };
        let key = client_key(ip);
        if let Some(bucket) = table.buckets.get_mut(&key) {
            return self.take_from(bucket, now);
        }
        if table.buckets.len() >= MAX_CLIENTS {
            self.sweep(&mut table, now);
        }
        if table.buckets.len() >= MAX_CLIENTS {
            return self.take_from(&mut table.overflow, now);
        }
        let mut bucket = Bucket { due: now };
        let taken = self.take_from(&mut bucket, now);
        table.buckets.insert(key, bucket);
        taken
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.table().buckets.len()
    }

    fn take_from(&self, b: &mut Bucket, now: Instant) -> Result<(), Duration> {
        let due = b.due.max(now);
        let ahead = due - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        b.due = due + self.interval;
        Ok(())
    }

    /// Drops the buckets that are full again, at most once per refill time (a burst's worth
    /// of intervals), so a table of busy clients is not scanned on every request.
    fn sweep(&self, table: &mut Table, now: Instant) {
        let refill = self.tolerance + self.interval;
        if table
            .swept
            .is_some_and(|at| now.saturating_duration_since(at) < refill)
        {
            return;
        }
        table.swept = Some(now);
        table.buckets.retain(|_, b| b.due > now);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn v4(n: u32) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::from(n)))
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_the_rate_holds_and_clients_are_apart() {
        let limiter = ClientLimiter::new(10.0, 5);
        let a = v4(0x0a00_0001);
        for _ in 0..5 {
            limiter.take(a, Instant::now()).unwrap();
        }
        let wait = limiter.take(a, Instant::now()).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        // Another address has its own bucket.
        limiter.take(v4(0x0a00_0002), Instant::now()).unwrap();
        tokio::time::advance(Duration::from_millis(100)).await;
        limiter.take(a, Instant::now()).unwrap();
        assert!(limiter.take(a, Instant::now()).is_err());
        // Over ten seconds at most rate x time + burst get through.
        let mut passed = 0;
        for _ in 0..1000 {
            tokio::time::advance(Duration::from_millis(10)).await;
            passed += usize::from(limiter.take(a, Instant::now()).is_ok());
        }
        assert_eq!(passed, 100, "10 s at 10/s");
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a.into()), client_key(b.into()));
        assert_ne!(client_key(a.into()), client_key(c.into()));
        let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
        let plain: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped.into()), client_key(plain));
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_ne!(client_key(other), client_key(plain));
    }

    #[tokio::test(start_paused = true)]
    async fn the_table_is_bounded_and_forgets_only_full_buckets() {
        let limiter = ClientLimiter::new(1.0, 2);
        let n = MAX_CLIENTS as u32;
        for i in 0..n {
            limiter.take(v4(i), Instant::now()).unwrap();
        }
        assert_eq!(limiter.tracked(), MAX_CLIENTS);
        // Nobody's bucket is full yet: newcomers share the overflow bucket (burst 2).
        limiter.take(v4(n), Instant::now()).unwrap();
        limiter.take(v4(n + 1), Instant::now()).unwrap();
        assert!(limiter.take(v4(n + 2), Instant::now()).is_err());
        assert_eq!(limiter.tracked(), MAX_CLIENTS);
        // An address seen before keeps its own, part-used bucket.
        limiter.take(v4(0), Instant::now()).unwrap();
        assert!(limiter.take(v4(0), Instant::now()).is_err());
        // Two seconds on, everyone else is full again and is forgotten; a newcomer gets its own.
        tokio::time::advance(Duration::from_secs(2)).await;
        limiter.take(v4(n + 3), Instant::now()).unwrap();
        assert_eq!(limiter.tracked(), 1);
    }
}
