"""The relay's main loop: claim due notices, plan, pace and send them concurrently, record each outcome.

Up to `concurrency` notices are in flight at once, claimed soonest appointment first.
A background task renews the leases of the notices this worker holds. A worker that
dies stops renewing, so once its leases expire another relay claims those notices
again. A notice can then be sent twice only if it was in flight when the worker died.
Database calls are short and run on the event loop; sends await the network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from booking.errors import ClinicNotLoaded
from booking.store import load_clinic
from crypto import RelayKeyring
from relay.channels.base import ChannelKind, DeliveryError
from relay.claims import (
    ChannelResult,
    Claim,
    Outcome,
    claim_due,
    record_outcome,
    release,
    renew_leases,
)
from relay.pacing import ChannelPacer, PacingSettings
from relay.plan import Delivery, Plan, PlanContext, plan_notice
from relay.retry import RetryPolicy
from relay.transports import Transport
from sealbook import gsm7
from sealbook.clock import Clock
from storage.db import session_scope

logger = logging.getLogger(__name__)

# How long a loaded clinic is reused before it is read again, so edits reach the relay.
CLINIC_REFRESH = dt.timedelta(seconds=60)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class WorkerConfig:
    """Configuration of one worker: lease owner name, lease, concurrency, polling, retries and limits."""

    owner: str
    lease: dt.timedelta
    concurrency: int
    poll_seconds: float
    retry: RetryPolicy
    pacing: PacingSettings
    organizer_email: str
    uid_domain: str


class RelayWorker:
    """Deliver the outbox with one set of senders, until stopped or, with `once`, until nothing is due."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        keyring: RelayKeyring,
        transport: Transport,
        config: WorkerConfig,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._factory = factory
        self._keyring = keyring
        self._transport = transport
        self._config = config
        self._clock = clock
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._pacer = ChannelPacer(config.pacing, clock)
        self._held: set[int] = set()
        self._stopping = asyncio.Event()
        self._clinic: Clinic | None = None
        self._clinic_read_at: dt.datetime | None = None
        self.stats: Counter[str] = Counter()

    def stop(self) -> None:
        """Stop claiming; notices in flight finish and are recorded before `run` returns."""
        self._stopping.set()

    async def run(self, *, once: bool = False) -> Counter[str]:
        """Run until `stop`, or with `once` until no notice is due and none is in flight."""
        await self._transport.start()
        renewer = asyncio.create_task(self._renew_leases())
        in_flight: set[asyncio.Task[None]] = set()
        logger.info("relay %s started (concurrency %s)", self._config.owner, self._config.concurrency)
        try:
            while not self._stopping.is_set():
                claims = self._claim(self._config.concurrency - len(in_flight), once=once)
                for claim in claims:
                    task = asyncio.create_task(self._process(claim))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if once and not claims and not in_flight:
                    break
                await self._wait(in_flight)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            renewer.cancel()
            await self._transport.close()
            logger.info("relay %s stopped: %s", self._config.owner, dict(self.stats))
        return self.stats

    def _claim(self, free: int, *, once: bool) -> list[Claim]:
        # Claims wait until at least half the slots are free, so one claim transaction
        # serves several notices. A worker with nothing in flight claims whatever is due.
        if free <= 0 or free < min(self._config.concurrency, max(1, self._config.concurrency // 2)):
            return []
        now = self._clock.now()
        claims = claim_due(
            self._factory, owner=self._config.owner, now=now, lease=self._config.lease, limit=free
        )
        if claims and self._current_clinic(now) is None:
            release(self._factory, claims, owner=self._config.owner)
            if once:
                raise ClinicNotLoaded()
            logger.warning("%s notices are due but no clinic is loaded; waiting", len(claims))
            return []
        self._held.update(claim.notice_id for claim in claims)
        self.stats["claimed"] += len(claims)
        return claims

    async def _wait(self, in_flight: set[asyncio.Task[None]]) -> None:
        stop_waiter = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait(
                {*in_flight, stop_waiter},
                timeout=self._config.poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stop_waiter.cancel()

    def _current_clinic(self, now: dt.datetime) -> Clinic | None:
        if self._clinic_read_at is None or now - self._clinic_read_at >= CLINIC_REFRESH:
            try:
                with self._factory() as session:
                    self._clinic = load_clinic(session)
            except ClinicNotLoaded:
                self._clinic = None
            self._clinic_read_at = now
        return self._clinic

    async def _renew_leases(self) -> None:
        # Real time, not the injected sleep: leases must be renewed while sends wait on
        # the network, whatever clock the worker's timestamps come from.
        interval = self._config.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            if not self._held:
                continue
            try:
                renew_leases(
                    self._factory,
                    owner=self._config.owner,
                    notice_ids=sorted(self._held),
                    now=self._clock.now(),
                    lease=self._config.lease,
                )
            except Exception as error:  # noqa: BLE001 - a failed renewal is retried on the next tick
                logger.error(
                    "renewing leases failed (%s); retrying in %.0f s", type(error).__name__, interval
                )

    async def _process(self, claim: Claim) -> None:
        try:
            outcome = await self._deliver(claim)
        except Exception as error:
            logger.error(
                "notice %s (%s) failed inside the relay (%s); it will be retried",
                claim.notice_id,
                claim.reference,
                type(error).__name__,
            )
            logger.debug("relay error details", exc_info=True)
            outcome = self._temporary(claim, "relay.internal_error", None, ())
        try:
            record_outcome(self._factory, claim, outcome, owner=self._config.owner, now=self._clock.now())
            self.stats[outcome.status] += 1
        except Exception as error:  # noqa: BLE001 - the lease expires and the notice is claimed again
            logger.error(
                "recording the outcome of notice %s (%s) failed (%s); it is retried when its lease expires",
                claim.notice_id,
                claim.reference,
                type(error).__name__,
            )
        finally:
            self._held.discard(claim.notice_id)

    async def _deliver(self, claim: Claim) -> Outcome:
        now = self._clock.now()
        if claim.attempt > self._config.retry.max_attempts:
            # Claimed again after relays died while holding it: treat as poison.
            return Outcome(status="failed", error_class="relay.too_many_attempts")
        clinic = self._clinic
        assert clinic is not None, "claims are made only while a clinic is loaded"
        context = PlanContext(
            keyring=self._keyring,
            clinic=clinic,
            available=frozenset(self._transport.senders),
            organizer_email=self._config.organizer_email,
            uid_domain=self._config.uid_domain,
        )
        with session_scope(self._factory) as session:
            plan = plan_notice(session, claim.notice_id, context, now, attempt=claim.attempt)
        if plan.verdict is not None:
            return plan.verdict

        results: list[ChannelResult] = list(plan.unusable)
        failures: list[DeliveryError] = []
        opted_out_contact: int | None = None
        for delivery in plan.deliveries:
            sender = self._transport.senders[delivery.route]
            await self._pace(delivery, sender.kind)
            try:
                await sender.send(delivery.address, delivery.message)
            except DeliveryError as error:
                failures.append(error)
                results.append(ChannelResult(sender.kind.value, "failed", error.error_class))
                self._after_failure(claim, delivery, error)
                if error.error_class == "sms.opted_out":
                    opted_out_contact = delivery.contact_id
                continue
            results.append(ChannelResult(sender.kind.value, "sent"))
        return self._decide(claim, plan, results, failures, opted_out_contact)

    async def _pace(self, delivery: Delivery, kind: ChannelKind) -> None:
        cost = 1
        if kind is ChannelKind.SMS:
            # An empty body measures 0 segments but still takes one send.
            cost = max(1, gsm7.measure_sms(delivery.message.text).segments)
        sender_key = self._transport.sender_keys.get(delivery.route, "")
        while True:
            wait = self._pacer.try_acquire(
                kind, recipient_key=delivery.contact_id, sender_key=sender_key, cost=cost
            )
            if wait <= dt.timedelta(0):
                return
            await self._sleep(wait.total_seconds())

    def _after_failure(self, claim: Claim, delivery: Delivery, error: DeliveryError) -> None:
        logger.warning(
            "notice %s (%s) attempt %s on %s failed: %s (%s)",
            claim.notice_id,
            claim.reference,
            claim.attempt,
            delivery.route.value,
            error.error_class,
            "permanent" if error.permanent else "temporary",
        )
        if error.retry_after_seconds:
            self._pacer.hold(
                delivery.route,
                recipient_key=delivery.contact_id,
                sender_key=self._transport.sender_keys.get(delivery.route, ""),
                seconds=error.retry_after_seconds,
            )

    def _decide(
        self,
        claim: Claim,
        plan: Plan,
        results: list[ChannelResult],
        failures: list[DeliveryError],
        opted_out_contact: int | None,
    ) -> Outcome:
        temporary = [failure for failure in failures if not failure.permanent]
        if temporary:
            retry_after = max((failure.retry_after_seconds or 0.0) for failure in temporary) or None
            return self._temporary(claim, temporary[0].error_class, retry_after, results, opted_out_contact)

        delivered = plan.sent_before or any(result.status == "sent" for result in results)
        problems = [result.error_class for result in results if result.error_class]
        if delivered:
            status = "sent"
        elif failures:
            status = "failed"
        else:
            status = "undeliverable"
        return Outcome(
            status=status,
            error_class=problems[0] if problems else None,
            results=tuple(results),
            opted_out_contact_id=opted_out_contact,
        )

    def _temporary(
        self,
        claim: Claim,
        error_class: str,
        retry_after: float | None,
        results: list[ChannelResult] | tuple[()],
        opted_out_contact: int | None = None,
    ) -> Outcome:
        if self._config.retry.gives_up_after(claim.attempt):
            logger.warning(
                "notice %s (%s) failed after %s attempts: %s",
                claim.notice_id,
                claim.reference,
                claim.attempt,
                error_class,
            )
            return Outcome(
                status="failed",
                error_class=error_class,
                results=tuple(results),
                opted_out_contact_id=opted_out_contact,
            )
        delay = self._config.retry.delay(claim.attempt, self._rng, retry_after)
        return Outcome(
            status="pending",
            error_class=error_class,
            due_at=self._clock.now() + delay,
            results=tuple(results),
            opted_out_contact_id=opted_out_contact,
        )
