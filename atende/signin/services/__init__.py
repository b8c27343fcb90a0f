"""Sign-in security writes: sessions, password sign-in, second factors, the policy and single sign-on."""
