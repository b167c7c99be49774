package demo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
)

// person is one generated contact before it is stored.
type person struct {
	Email      string
	Name       string
	Attributes map[string]any
	Tags       []string
	Consent    consent
	CreatedAt  time.Time
}

type consent struct {
	Source string
	At     time.Time
	IP     netip.Addr
}

// name is a first or last name in its own script and in Latin letters (for
// the email address).
type name struct{ native, latin string }

var (
	persianFirst = []name{
		{"سارا", "sara"}, {"علی", "ali"}, {"مریم", "maryam"}, {"رضا", "reza"}, {"زهرا", "zahra"},
		{"محمد", "mohammad"}, {"نگار", "negar"}, {"امیر", "amir"}, {"لیلا", "leila"}, {"حسین", "hossein"},
		{"شیرین", "shirin"}, {"کاوه", "kaveh"}, {"نازنین", "nazanin"}, {"آرش", "arash"}, {"پریسا", "parisa"},
		{"بهرام", "bahram"}, {"یاسمن", "yasaman"}, {"داریوش", "dariush"}, {"الهام", "elham"}, {"سینا", "sina"},
	}
	persianLast = []name{
		{"احمدی", "ahmadi"}, {"محمدی", "mohammadi"}, {"حسینی", "hosseini"}, {"رضایی", "rezaei"}, {"کریمی", "karimi"},
		{"موسوی", "mousavi"}, {"جعفری", "jafari"}, {"صادقی", "sadeghi"}, {"تهرانی", "tehrani"}, {"شیرازی", "shirazi"},
		{"نوری", "nouri"}, {"رحیمی", "rahimi"}, {"کاظمی", "kazemi"}, {"فرهادی", "farhadi"}, {"اکبری", "akbari"},
	}
	englishFirst = []name{
		{"Emma", "emma"}, {"Liam", "liam"}, {"Olivia", "olivia"}, {"Noah", "noah"}, {"Sophie", "sophie"},
		{"Lukas", "lukas"}, {"Hannah", "hannah"}, {"James", "james"}, {"Mia", "mia"}, {"Ethan", "ethan"},
		{"Chloe", "chloe"}, {"Jonas", "jonas"}, {"Grace", "grace"}, {"Oliver", "oliver"}, {"Lea", "lea"},
	}
	englishLast = []name{
		{"Smith", "smith"}, {"Müller", "mueller"}, {"Brown", "brown"}, {"Schmidt", "schmidt"}, {"Wilson", "wilson"},
		{"Taylor", "taylor"}, {"Fischer", "fischer"}, {"Martin", "martin"}, {"Clarke", "clarke"}, {"Wagner", "wagner"},
	}
	// Iranian cities for Persian speakers; diaspora and local cities for both.
	iranCities   = []string{"Tehran", "Tehran", "Tehran", "Shiraz", "Isfahan", "Tabriz", "Mashhad", "Karaj", "Rasht"}
	abroadCities = []string{"Berlin", "London", "Toronto", "Toronto", "Hamburg", "Vancouver", "Los Angeles", "Stockholm"}
	ageBands     = []string{"18-24", "25-34", "25-34", "35-44", "35-44", "45-54", "55+"}
	interests    = []string{"fashion", "tech", "books", "travel", "food", "sports", "beauty", "home", "music"}
	domains      = []string{"example.com", "example.org", "example.net", "mail.example"}
	sources      = []string{"signup_form", "checkout", "popup", "import:crm-2025", "event:nowruz-fair"}
)

// stages are lifecycle stages with their weights (out of 100) and how many
// purchases such a contact made over the last two years.
var stages = []struct {
	stage         string
	weight        int
	minBuy, maxBu int
}{
	{"lead", 30, 0, 0},
	{"customer", 35, 1, 3},
	{"repeat", 20, 3, 8},
	{"vip", 5, 8, 20},
	{"churned", 10, 1, 2},
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// stageOf draws a lifecycle stage by weight.
func stageOf(r *rand.Rand) string {
	n := r.IntN(100)
	for _, s := range stages {
		if n < s.weight {
			return s.stage
		}
		n -= s.weight
	}
	return stages[0].stage
}

// purchasesFor is how many past purchases a contact of stage made.
func purchasesFor(r *rand.Rand, stage string) int {
	for _, s := range stages {
		if s.stage == stage {
			if s.maxBu == 0 {
				return 0
			}
			return s.minBuy + r.IntN(s.maxBu-s.minBuy+1)
		}
	}
	return 0
}

// newPerson generates contact i (0-based) of a run; run makes addresses of
// separate runs distinct.
func newPerson(r *rand.Rand, i int, run string, now time.Time) person {
	persian := r.IntN(100) < 60
	var first, last name
	var city, lang string
	if persian {
		first, last, lang = pick(r, persianFirst), pick(r, persianLast), "fa"
		city = pick(r, iranCities)
		if r.IntN(100) < 25 {
			city = pick(r, abroadCities)
		}
	} else {
		first, last, lang = pick(r, englishFirst), pick(r, englishLast), "en"
		city = pick(r, abroadCities)
	}
	stage := stageOf(r)
	n := 1 + r.IntN(3)
	picked := make([]string, 0, n)
	for _, k := range r.Perm(len(interests))[:n] {
		picked = append(picked, interests[k])
	}
	created := now.Add(-time.Duration(30+r.IntN(700)) * 24 * time.Hour).Add(-time.Duration(r.IntN(86400)) * time.Second)
	tags := []string{"newsletter"}
	if stage == "vip" {
		tags = append(tags, "vip")
	}
	if r.IntN(100) < 15 {
		tags = append(tags, "sms-optin")
	}
	// Documentation ranges (RFC 5737): sample data, never a real address.
	net := pick(r, [][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}})
	ip := netip.AddrFrom4([4]byte{net[0], net[1], net[2], byte(1 + r.IntN(254))})
	return person{
		Email: fmt.Sprintf("%s.%s.%s%d@%s", first.latin, last.latin, run, i+1, pick(r, domains)),
		Name:  strings.TrimSpace(first.native + " " + last.native),
		Attributes: map[string]any{
			"city": city, "age_band": pick(r, ageBands), "lifecycle_stage": stage,
			"interests": picked, "language": lang,
		},
		Tags:      tags,
		Consent:   consent{Source: pick(r, sources), At: created, IP: ip},
		CreatedAt: created,
	}
}

// seasonWeight is how much more likely a purchase is on day t: Nowruz (late
// March into early April) and November's sales are the busy seasons.
func seasonWeight(t time.Time) float64 {
	m, d := t.Month(), t.Day()
	switch {
	case (m == time.March && d >= 10) || (m == time.April && d <= 3):
		return 4
	case m == time.November:
		return 3
	case m == time.December && d <= 24:
		return 1.5
	}
	return 1
}

// purchaseTime draws a purchase time between from and now, following the
// seasons (rejection sampling over seasonWeight, whose maximum is 4).
func purchaseTime(r *rand.Rand, from, now time.Time) time.Time {
	span := now.Sub(from)
	if span <= 0 {
		return now
	}
	for {
		t := from.Add(time.Duration(r.Int64N(int64(span))))
		if r.Float64()*4 < seasonWeight(t) {
			return t
		}
	}
}

// purchaseValue is a basket in euros, larger in the sale seasons.
func purchaseValue(r *rand.Rand, t time.Time) float64 {
	v := 15 + r.ExpFloat64()*45
	if seasonWeight(t) > 1 {
		v *= 1.3
	}
	return float64(int(v*100)) / 100
}
