package com.github.wxauth.client;

/** PHONE_NUMBER's answer (the server checked the watermark). */
public record PhoneNumberResult(String phoneNumber, String purePhoneNumber, String countryCode) {
}
