package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/templates"
)

// stepTemplate returns the template delivery d sends, the offset of its
// tracked links among the step's recorded ones, and its A/B test variant
// (the zero Variant outside a test). 0 means the step is gone.
func stepTemplate(c *campaigns.Campaign, d deliveries.Delivery) (int64, int, campaigns.Variant) {
	for _, s := range c.Steps {
		if s.Key != d.Step {
			continue
		}
		if d.Variant == "" {
			return s.TemplateID, 0, campaigns.Variant{}
		}
		id, offset := s.VariantTemplate(d.Variant)
		v, _ := c.VariantOf(s.Key, d.Variant)
		return id, offset, v
	}
	return 0, 0, campaigns.Variant{}
}

// withVariantSender returns c, or a copy of it whose sender's name is the
// from_name of d's variant.
func withVariantSender(c *campaigns.Campaign, d deliveries.Delivery) *campaigns.Campaign {
	if d.Variant == "" {
		return c
	}
	v, ok := c.VariantOf(d.Step, d.Variant)
	if !ok || v.FromName == "" {
		return c
	}
	cc := *c
	cc.From.Name = v.FromName
	return &cc
}

// variantKey names a template compiled with a variant's subject.
type variantKey struct {
	template int64
	subject  string
}

// variantCache is templateCache for templates with a variant's subject.
type variantCache struct {
	once sync.Once
	c    *lru.Cache[variantKey, cachedTemplate]
}

// get returns template id compiled with subject in place of its own.
func (vc *variantCache) get(ctx context.Context, db templates.DBTX, id int64, subject string) (cachedTemplate, error) {
	vc.once.Do(func() { vc.c, _ = lru.New[variantKey, cachedTemplate](256) }) // errs only for a size <= 0
	k := variantKey{id, subject}
	e, ok := vc.c.Get(k)
	if ok && time.Since(e.at) < templateTTL {
		return e, nil
	}
	t, err := templates.Get(ctx, db, id)
	if err != nil {
		return e, err
	}
	t.Subject = subject
	compiled, err := templates.Compile(t)
	if err != nil {
		return e, fmt.Errorf("template %d with the variant's subject: %w", id, err)
	}
	e = cachedTemplate{compiled: compiled, at: time.Now()}
	vc.c.Add(k, e)
	return e, nil
}

// variantTemplate returns the compiled template of d: the step's or its
// variant's, with the variant's subject when it has one.
func (w *SendWorker) variantTemplate(ctx context.Context, id int64, v campaigns.Variant) (cachedTemplate, error) {
	if v.Subject != "" {
		return w.variants.get(ctx, w.Pool, id, v.Subject)
	}
	return w.templates.get(ctx, w.Pool, id)
}
