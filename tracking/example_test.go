package tracking_test

import (
	"fmt"
	"strings"

	"github.com/peykar/peykar/tracking"
)

// A sender builds a delivery's tracked URLs; the tracking endpoints verify
// them.
func ExampleSigner() {
	s := tracking.NewSigner(tracking.Keys{Current: []byte("a signing secret of at least 32 characters")})
	click := s.ClickURL("https://t.shop.example", 42, 3, "")
	token := strings.TrimPrefix(click, "https://t.shop.example/t/c/")
	t, err := s.Verify(token)
	fmt.Println(err, t.DeliveryID, t.LinkIdx, string(t.Kind))
	_, err = s.Verify(token[:len(token)-1] + "x")
	fmt.Println(err)
	fmt.Println(strings.HasPrefix(s.BounceAddress(42, "bounces.shop.example"), "bounce+"))
	// Output:
	// <nil> 42 3 c
	// tracking: invalid token
	// true
}
