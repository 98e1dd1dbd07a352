package demo

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// Cache settings: Redis must answer within cacheTimeout or the order goes
// on without it; the local cache holds at most localCacheSize entries for
// localCacheTTL.
const (
	cacheTimeout   = 50 * time.Millisecond
	redisItemTTL   = 5 * time.Minute
	localCacheSize = 1024
	localCacheTTL  = 30 * time.Second
)

// catalog reads deal entries cache-aside: Redis (through the "cache" link)
// first; on a Redis miss, one load per key from the inventory (singleflight)
// written back to Redis; on a Redis error (slow, down) the bounded local
// cache, and on a local miss the same single-flight inventory load, so a
// dead cache never turns into a stampede on the inventory. Without the
// fallback (the regression switch) a Redis error fails the order.
type catalog struct {
	rdb        *redis.Client
	load       func(ctx context.Context, sku string) (item, error)
	local      *localCache
	group      singleflight.Group
	fallback   bool
	onFallback func() // counts fallback_calls_total{dependency="cache"}
}

func (c *catalog) get(ctx context.Context, sku string) (item, error) {
	key := "item:" + sku
	rctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	b, err := c.rdb.Get(rctx, key).Bytes()
	cancel()
	if err == nil {
		var it item
		if jerr := json.Unmarshal(b, &it); jerr == nil {
			c.local.put(sku, it)
			return it, nil
		}
		err = redis.Nil // a corrupt entry is a miss
	}
	healthy := errors.Is(err, redis.Nil)
	if !healthy {
		if ctx.Err() != nil {
			return item{}, ctx.Err()
		}
		if !c.fallback {
			return item{}, fmt.Errorf("cache: %w", err)
		}
		c.onFallback()
		if it, ok := c.local.get(sku); ok {
			return it, nil
		}
	}
	v, err, _ := c.group.Do(sku, func() (any, error) {
		if !healthy {
			if it, ok := c.local.get(sku); ok { // filled while this call queued
				return it, nil
			}
		}
		// The load is shared by every waiter: it must not die with the
		// first caller's request, only with its own budget.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), OrderBudget)
		defer cancel()
		it, err := c.load(lctx, sku)
		if err != nil {
			return item{}, err
		}
		c.local.put(sku, it)
		if healthy {
			if b, err := json.Marshal(it); err == nil {
				wctx, cancel := context.WithTimeout(lctx, cacheTimeout)
				_ = c.rdb.Set(wctx, key, b, redisItemTTL).Err()
				cancel()
			}
		}
		return it, nil
	})
	if err != nil {
		return item{}, err
	}
	return v.(item), nil
}

// itemPath is the inventory's catalog endpoint for a SKU.
func itemPath(sku string) string { return "/item?sku=" + url.QueryEscape(sku) }

// localCache is a bounded LRU with a TTL: the order service's own copy of
// the catalog for when Redis is unavailable.
type localCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	order *list.List // front = most recently used
	byKey map[string]*list.Element
}

type localEntry struct {
	key     string
	it      item
	expires time.Time
}

func newLocalCache(max int, ttl time.Duration) *localCache {
	return &localCache{max: max, ttl: ttl, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *localCache) get(key string) (item, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return item{}, false
	}
	en := e.Value.(*localEntry)
	if time.Now().After(en.expires) {
		c.order.Remove(e)
		delete(c.byKey, key)
		return item{}, false
	}
	c.order.MoveToFront(e)
	return en.it, true
}

func (c *localCache) put(key string, it item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value = &localEntry{key: key, it: it, expires: time.Now().Add(c.ttl)}
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&localEntry{key: key, it: it, expires: time.Now().Add(c.ttl)})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*localEntry).key)
	}
}

func (c *localCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
