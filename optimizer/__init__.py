"""Budget and bid-multiplier allocation as a linear/integer program solved by HiGHS."""
