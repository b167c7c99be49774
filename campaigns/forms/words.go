package forms

// words are the recipients' texts of the public pages and the confirmation
// mail, in the form's language. The admin UI's texts are in web/i18n.
type words struct {
	Lang, Dir                                     string
	Email, Name, Topics, Submit, Required         string
	BadEmail, ChooseTopic, BadField               string
	Again, TooMany, Thanks, ThanksDefault         string
	ConfirmTitle, ConfirmButton, Confirmed        string
	AlreadyConfirmed, ExpiredLink, InvalidLink    string
	Resubmit, NotFound, MailSubject, MailIntro    string
	MailTopics, MailButton, MailIgnore, MailLater string
}

var catalogue = map[string]words{
	"en": {
		Lang: "en", Dir: "ltr",
		Email: "Email", Name: "Name", Topics: "I would like to receive", Submit: "Subscribe", Required: "required",
		BadEmail:         "Enter a valid email address, such as sara@example.com.",
		ChooseTopic:      "Choose at least one topic.",
		BadField:         "Check this field.",
		Again:            "Almost done: please check your details and press Subscribe again.",
		TooMany:          "Too many attempts from your network. Please wait a minute and try again.",
		Thanks:           "Thank you!",
		ThanksDefault:    "Please check your inbox: we have sent you a link to confirm your subscription.",
		ConfirmTitle:     "Confirm your subscription",
		ConfirmButton:    "Yes, subscribe me",
		Confirmed:        "Your subscription is confirmed. Thank you!",
		AlreadyConfirmed: "Your subscription was already confirmed.",
		ExpiredLink:      "This confirmation link has expired.",
		InvalidLink:      "This confirmation link is not valid.",
		Resubmit:         "Sign up again to get a new link",
		NotFound:         "This form does not exist.",
		MailSubject:      "Please confirm your subscription",
		MailIntro:        "Someone, hopefully you, asked to subscribe this address. Please confirm:",
		MailTopics:       "You asked to receive:",
		MailButton:       "Confirm my subscription",
		MailIgnore:       "If it was not you, ignore this message: nothing will be sent to you.",
		MailLater:        "The link works for 48 hours.",
	},
	"fa": {
		Lang: "fa", Dir: "rtl",
		Email: "ایمیل", Name: "نام", Topics: "می‌خواهم این‌ها را دریافت کنم", Submit: "عضویت", Required: "لازم",
		BadEmail:         "یک نشانی ایمیل درست وارد کنید، مانند sara@example.com.",
		ChooseTopic:      "دست‌کم یک موضوع را انتخاب کنید.",
		BadField:         "این فیلد را بررسی کنید.",
		Again:            "تقریباً تمام است: اطلاعات را بررسی کنید و دوباره «عضویت» را بزنید.",
		TooMany:          "تلاش‌های زیادی از شبکهٔ شما رسیده است. یک دقیقه صبر کنید و دوباره امتحان کنید.",
		Thanks:           "سپاس!",
		ThanksDefault:    "صندوق ایمیل خود را ببینید: پیوندی برای تأیید عضویت برایتان فرستادیم.",
		ConfirmTitle:     "عضویت خود را تأیید کنید",
		ConfirmButton:    "بله، عضوم کنید",
		Confirmed:        "عضویت شما تأیید شد. سپاس!",
		AlreadyConfirmed: "عضویت شما پیش‌تر تأیید شده بود.",
		ExpiredLink:      "این پیوند تأیید منقضی شده است.",
		InvalidLink:      "این پیوند تأیید معتبر نیست.",
		Resubmit:         "دوباره ثبت‌نام کنید تا پیوند تازه‌ای بگیرید",
		NotFound:         "این فرم وجود ندارد.",
		MailSubject:      "لطفاً عضویت خود را تأیید کنید",
		MailIntro:        "کسی، امیدواریم خود شما، خواسته است این نشانی عضو شود. لطفاً تأیید کنید:",
		MailTopics:       "درخواست دریافت این‌ها را داده‌اید:",
		MailButton:       "تأیید عضویت",
		MailIgnore:       "اگر شما نبودید، این پیام را نادیده بگیرید: چیزی برایتان فرستاده نمی‌شود.",
		MailLater:        "این پیوند ۴۸ ساعت کار می‌کند.",
	},
}

// wordsFor returns the texts of lang (English when unknown).
func wordsFor(lang string) words {
	if w, ok := catalogue[lang]; ok {
		return w
	}
	return catalogue["en"]
}
