package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Outcomes of group_buy_order_total.
const (
	orderSuccess  = "success"
	orderRejected = "rejected"
	orderFailed   = "failed"
)

// Hop timeouts of the seed shop's order service. A healthy dependency
// answers in a few ms, so each is generous for health and tight for a
// fault: +100 ms on the inventory link is a failed primary call (served by
// the backup), not a slow order.
const (
	inventoryHopTimeout = 80 * time.Millisecond
	// The backup is the last resort, and during an outage it carries every
	// order: it gets more of the budget, so a scheduler stall on a starved
	// machine (150 ms was seen under load on two cores) does not fail an
	// order the fallback can serve, nor open the backup's own breaker.
	backupHopTimeout = 300 * time.Millisecond
	couponHopTimeout = 80 * time.Millisecond
	// The payment call may take 400 ms in all, 150 ms per attempt: a hung
	// payment connection costs one retry (with the same Idempotency-Key),
	// not the order.
	paymentHopTimeout     = 400 * time.Millisecond
	paymentAttemptTimeout = 150 * time.Millisecond
)

// seedOrders is the order service built the way the seed's first chapter
// says: catalog from the cache, stock from the inventory (behind a breaker,
// falling back to the backup inventory), an optional coupon, then payment,
// all within one budget propagated to every hop.
type seedOrders struct {
	inventory, backup, coupon, payment *client
	catalog                            *catalog
	m                                  *metrics
	fallback                           bool
	nextID                             atomic.Int64
}

// handleOrders serves POST /orders (GET too, for curl) with sku and qty.
func (o *seedOrders) handleOrders(w http.ResponseWriter, r *http.Request) {
	sku, qty, ok := orderParams(w, r, o.m.orders)
	if !ok {
		return
	}
	ctx := r.Context()
	fail := func(what string, err error) {
		o.m.orders.WithLabelValues(orderFailed).Inc()
		code := http.StatusServiceUnavailable
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			code = http.StatusGatewayTimeout // the order's own budget ran out
		}
		writeJSON(w, code, map[string]string{"error": what + " unavailable: " + err.Error()})
	}

	it, err := o.catalog.get(ctx, sku)
	if err != nil {
		fail("catalog", err)
		return
	}
	st, err := o.stock(ctx, sku)
	if err != nil {
		if clientError(err) {
			o.m.orders.WithLabelValues(orderRejected).Inc()
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		fail("inventory", err)
		return
	}
	if st.Available < qty {
		o.m.orders.WithLabelValues(orderRejected).Inc()
		writeJSON(w, http.StatusConflict, map[string]string{"error": "out of stock"})
		return
	}
	discount := o.discount(ctx, sku)
	amount := it.PriceCents * qty * (100 - discount) / 100
	id := o.nextID.Add(1)
	if _, err := o.payment.call(ctx, http.MethodPost, "/pay?amount_cents="+strconv.Itoa(amount),
		http.Header{"Idempotency-Key": {fmt.Sprintf("order-%d", id)}}); err != nil {
		fail("payment", err)
		return
	}
	o.m.orders.WithLabelValues(orderSuccess).Inc()
	writeJSON(w, http.StatusOK, order{ID: id, SKU: sku, Qty: qty, Status: "confirmed", AmountCents: amount, DiscountPct: discount})
}

// stock asks the inventory through its breaker. A failed call, or one the
// open breaker refused, goes to the backup inventory when the fallback is
// on; a 4xx is the request's fault and is returned as is.
func (o *seedOrders) stock(ctx context.Context, sku string) (stock, error) {
	path := "/stock?sku=" + url.QueryEscape(sku)
	b, err := o.inventory.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		if !o.fallback || clientError(err) || ctx.Err() != nil {
			return stock{}, err
		}
		o.countFallback(err)
		var berr error
		if b, berr = o.backup.call(ctx, http.MethodGet, path, nil); berr != nil {
			return stock{}, fmt.Errorf("%w; backup: %w", err, berr)
		}
	}
	var st stock
	if err := json.Unmarshal(b, &st); err != nil {
		return stock{}, fmt.Errorf("decode inventory answer: %w", err)
	}
	return st, nil
}

// countFallback counts a call sent to the backup inventory, by why.
func (o *seedOrders) countFallback(err error) {
	reason := "primary_failed"
	if rejected(err) {
		reason = "breaker_open"
	}
	o.m.fallback.WithLabelValues(serviceOrder, "inventory", reason).Inc()
}

// loadItem is the catalog's loader on a cache miss: the inventory, with the
// same breaker and fallback as stock checks.
func (o *seedOrders) loadItem(ctx context.Context, sku string) (item, error) {
	b, err := o.inventory.call(ctx, http.MethodGet, itemPath(sku), nil)
	if err != nil {
		if !o.fallback || clientError(err) || ctx.Err() != nil {
			return item{}, err
		}
		o.countFallback(err)
		if b, err = o.backup.call(ctx, http.MethodGet, itemPath(sku), nil); err != nil {
			return item{}, err
		}
	}
	var it item
	if err := json.Unmarshal(b, &it); err != nil {
		return item{}, fmt.Errorf("decode item: %w", err)
	}
	return it, nil
}

// discount asks the coupon service; without an answer the order goes on at
// full price (a degraded feature, counted as a coupon fallback).
func (o *seedOrders) discount(ctx context.Context, sku string) int {
	b, err := o.coupon.call(ctx, http.MethodGet, "/coupon?sku="+url.QueryEscape(sku), nil)
	var c coupon
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		o.m.fallback.WithLabelValues(serviceOrder, "coupon", "no_discount").Inc()
		return 0
	}
	return c.DiscountPct
}
