package demo

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Label values of the service label of the seed shop's other services.
const (
	serviceBackup  = "inventory-backup"
	servicePayment = "payment"
	serviceCoupon  = "coupon"
)

// serviceCap bounds any request a back-end service serves, whatever budget
// the caller sends (a missing header gets this too).
const serviceCap = 2 * time.Second

// work simulates a few ms of processing, cut short when the caller's
// budget runs out (the handler then answers nothing: the caller is gone).
func work(r *http.Request, base, spread time.Duration) bool {
	select {
	case <-time.After(base + rand.N(spread)):
		return true
	case <-r.Context().Done():
		return false
	}
}

// item is the catalog entry of a group-buy deal: what the cache holds.
type item struct {
	SKU        string `json:"sku"`
	PriceCents int    `json:"price_cents"`
	GroupSize  int    `json:"group_size"`
}

func itemFor(sku string) item {
	n := availableFor(sku)
	return item{SKU: sku, PriceCents: 500 + n%5000, GroupSize: 2 + n%4}
}

// handleItem serves GET /item?sku=X on the inventory services: the catalog
// entry the order service caches.
func handleItem(w http.ResponseWriter, r *http.Request) {
	sku, ok := skuParam(w, r)
	if !ok {
		return
	}
	if !work(r, 2*time.Millisecond, 3*time.Millisecond) {
		return
	}
	writeJSON(w, http.StatusOK, itemFor(sku))
}

// coupon is the coupon service's answer.
type coupon struct {
	SKU         string `json:"sku"`
	DiscountPct int    `json:"discount_pct"`
}

// handleCoupon serves GET /coupon?sku=X: the group-buy discount. The order
// service treats it as optional: without an answer the order goes through
// at full price.
func handleCoupon(w http.ResponseWriter, r *http.Request) {
	sku := r.URL.Query().Get("sku")
	if sku == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sku is required"})
		return
	}
	if !work(r, time.Millisecond, 2*time.Millisecond) {
		return
	}
	writeJSON(w, http.StatusOK, coupon{SKU: sku, DiscountPct: availableFor(sku) % 20})
}

// payment is the payment service's answer.
type payment struct {
	ID          string `json:"payment_id"`
	AmountCents int    `json:"amount_cents"`
	Replayed    bool   `json:"replayed,omitempty"`
}

// paymentService charges an order once per Idempotency-Key, so the order
// service's retries never charge twice.
type paymentService struct {
	mu   sync.Mutex
	seen map[string]payment
	fifo []string // insertion order, to bound seen
}

const maxPaymentKeys = 10000

// handlePay serves POST /pay?amount_cents=N with an Idempotency-Key header.
func (p *paymentService) handlePay(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	amount, err := strconv.Atoi(r.URL.Query().Get("amount_cents"))
	if key == "" || err != nil || amount < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Idempotency-Key header and amount_cents are required"})
		return
	}
	if !work(r, 3*time.Millisecond, 5*time.Millisecond) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.seen[key]; ok {
		prev.Replayed = true
		writeJSON(w, http.StatusOK, prev)
		return
	}
	pay := payment{ID: "pay-" + key, AmountCents: amount}
	if p.seen == nil {
		p.seen = map[string]payment{}
	}
	p.seen[key] = pay
	p.fifo = append(p.fifo, key)
	if len(p.fifo) > maxPaymentKeys {
		delete(p.seen, p.fifo[0])
		p.fifo = p.fifo[1:]
	}
	writeJSON(w, http.StatusOK, pay)
}
