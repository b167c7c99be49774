package demo

// The sample shop's messages. The main message is Persian and right to left;
// the offer (sent by the click rule) is English; the resend (sent by the
// no-open rule) is Persian with another subject. Link order matters to the
// simulator: in each message the first tracked link is the pricing page.

// Subject markers the simulator uses to tell the steps' messages apart.
const (
	markMain   = "حراج نوروزی"
	markResend = "یادآوری"
	markOffer  = "offer"
)

const mainSubject = `{{ .Contact.Name | default "دوست عزیز" }}، حراج نوروزی پیکارشاپ شروع شد 🌱`

const mainHTML = `<!doctype html>
<html dir="rtl" lang="fa">
<head><meta charset="utf-8"><title>حراج نوروزی</title></head>
<body style="font-family: Vazirmatn, Tahoma, sans-serif; background:#f6f7f9; margin:0; padding:24px; direction:rtl; text-align:right">
<div style="max-width:560px; margin:auto; background:#fff; border-radius:12px; padding:24px">
<h1 style="color:#1f7a4d">نوروزتان پیروز، {{ .Contact.Name | default "دوست عزیز" }}!</h1>
<p>به مناسبت نوروز، همه‌ی اشتراک‌ها تا پایان فروردین با ۳۰٪ تخفیف عرضه می‌شوند.</p>
<p><a href="https://shop.example/pricing?src=nowruz" data-peykar-name="pricing" style="background:#1f7a4d; color:#fff; padding:10px 18px; border-radius:8px; text-decoration:none">دیدن قیمت‌ها</a></p>
<p>برای {{ attr "city" "شهر شما" }} ارسال رایگان داریم. <a href="https://shop.example/nowruz" data-peykar-name="shop">فروشگاه نوروزی</a></p>
<p>ایده‌هایی برای سفره‌ی هفت‌سین: <a href="https://shop.example/blog/haft-sin" data-peykar-name="blog">خواندن در وبلاگ</a></p>
<hr>
<p style="font-size:12px; color:#777">این ایمیل را چون در خبرنامه‌ی پیکارشاپ عضو شده‌اید دریافت کرده‌اید. <a href="{{ unsubscribe_url }}">لغو اشتراک</a></p>
</div>
</body>
</html>`

const resendSubject = `یادآوری: تخفیف ۳۰٪ نوروزی فقط تا پایان فروردین`

const resendHTML = `<!doctype html>
<html dir="rtl" lang="fa">
<head><meta charset="utf-8"><title>یادآوری</title></head>
<body style="font-family: Vazirmatn, Tahoma, sans-serif; direction:rtl; text-align:right; padding:24px">
<h2>{{ .Contact.Name | default "دوست عزیز" }}، هنوز فرصت هست</h2>
<p>تخفیف ۳۰٪ نوروزی روی همه‌ی اشتراک‌ها هنوز فعال است.</p>
<p><a href="https://shop.example/pricing?src=nowruz-reminder" data-peykar-name="pricing">دیدن قیمت‌ها</a></p>
<p><a href="https://shop.example/nowruz" data-peykar-name="shop">فروشگاه نوروزی</a></p>
<p style="font-size:12px; color:#777"><a href="{{ unsubscribe_url }}">لغو اشتراک</a></p>
</body>
</html>`

const offerSubject = `{{ .Contact.Name | default "Friend" }}, your personal Nowruz offer: 2 months free`

const offerHTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Your offer</title></head>
<body style="font-family: Helvetica, Arial, sans-serif; padding:24px">
<h2>Thanks for looking at our plans, {{ .Contact.Name | default "friend" }}!</h2>
<p>Choose any yearly plan before the end of Nowruz and get two months free.</p>
<p><a href="https://shop.example/pricing?offer=2free" data-peykar-name="pricing offer">Claim the offer</a></p>
<p>Questions? <a href="https://shop.example/contact" data-peykar-name="contact">Talk to us</a></p>
<p style="font-size:12px; color:#777">You receive this because you subscribed to Peykar Shop news.
<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body>
</html>`
